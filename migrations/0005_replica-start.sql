-- When each replica started: the one running longest takes a dead replica's queues as soon as their
-- leases run out, even past its share (a replica just started, perhaps one that keeps crashing, does
-- not), and the queues move on to the others by choice later.

-- Up Migration
ALTER TABLE ost_replicas ADD COLUMN started_at timestamptz NOT NULL DEFAULT now();

-- Down Migration
ALTER TABLE ost_replicas DROP COLUMN started_at;

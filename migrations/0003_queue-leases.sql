-- Leases per queue: each queue is written by the replica that holds its lease (`queue:<name>` in
-- ost_leases), and the leases are spread over the replicas alive. A replica says it is alive here on
-- every beat; the ones seen within a lease's time count when the queues are shared out. The watchers
-- (git, Gerrit stream-events) run under the `sources` lease; the single `writer` lease of 0001 is gone.

-- Up Migration
CREATE TABLE ost_replicas (
  name text PRIMARY KEY,
  seen_at timestamptz NOT NULL DEFAULT now()
);

DELETE FROM ost_leases WHERE name = 'writer';

-- Down Migration
DROP TABLE ost_replicas;

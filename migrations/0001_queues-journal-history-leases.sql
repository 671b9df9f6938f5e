-- The PostgreSQL store's first schema (src/store/pg/): per queue a snapshot row and the journal
-- written after it, the verdict history, and leases with fencing tokens (one writer at a time).
-- Snapshots and journal records are `json`, kept as the engine wrote them.

-- Up Migration
CREATE TABLE ost_queues (
  name text PRIMARY KEY,
  snapshot json NOT NULL,
  -- the number of the last journal record the snapshot includes
  journal_seq bigint NOT NULL,
  snapshot_bytes integer NOT NULL,
  written_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ost_journal (
  queue text NOT NULL REFERENCES ost_queues (name) ON DELETE CASCADE,
  n bigint NOT NULL,
  record json NOT NULL,
  bytes integer NOT NULL,
  PRIMARY KEY (queue, n)
);

CREATE TABLE ost_history (
  queue text NOT NULL,
  seq bigint NOT NULL,
  -- when the verdict was given (ms since the epoch), for paging by time
  at bigint NOT NULL,
  verdict json NOT NULL,
  PRIMARY KEY (queue, seq)
);

-- A lease is held by one replica until `expires_at` (the database's clock); each time it changes
-- hands its token grows, and every fenced write checks the token it was given.
CREATE TABLE ost_leases (
  name text PRIMARY KEY,
  holder text NOT NULL,
  token bigint NOT NULL,
  expires_at timestamptz NOT NULL
);

CREATE SEQUENCE ost_fencing_tokens;

-- Down Migration
DROP SEQUENCE ost_fencing_tokens;
DROP TABLE ost_leases;
DROP TABLE ost_history;
DROP TABLE ost_journal;
DROP TABLE ost_queues;

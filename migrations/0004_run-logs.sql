-- The last lines of each `command:` run's output (at most 200, as in a data directory's runs/), kept
-- in the database so that any replica serves a run's log, whichever replica ran it.

-- Up Migration
CREATE TABLE ost_run_logs (
  key text PRIMARY KEY,
  text text NOT NULL,
  written_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE ost_run_logs;

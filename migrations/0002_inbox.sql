-- The inbox: what a replica that does not hold the writer lease accepted (a webhook, a Gerrit event, a
-- CI callback, an operator's command), stored before its 2xx, until the writer applies it. A delivery
-- id (or an event's identity) is taken once per queue: a redelivery, or a second listener, adds nothing.

-- Up Migration
CREATE TABLE ost_inbox (
  id bigserial PRIMARY KEY,
  queue text NOT NULL,
  delivery text,
  item json NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  received_by text NOT NULL,
  -- why the writer could not apply it (kept for an operator; not tried again)
  failed text
);

CREATE UNIQUE INDEX ost_inbox_delivery ON ost_inbox (queue, delivery) WHERE delivery IS NOT NULL;

-- Down Migration
DROP TABLE ost_inbox;

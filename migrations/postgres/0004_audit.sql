-- The audit log: an append-only, hash-chained record of every event.
-- Each record's hash is SHA-256 over the previous record's hash and a
-- length-prefixed encoding of all its other columns (see src/audit/chain.rs).
-- audit_head holds the chain's last seq and hash (locked by every appender,
-- which serialises appends across nodes) and the prune anchor: the seq and
-- hash of the last record removed by retention, where verification starts.
-- Times are milliseconds since the Unix epoch (UTC).
-- No semicolons inside comments or strings: the runner splits on them.

CREATE TABLE audit_log (
    seq       BIGINT  PRIMARY KEY,
    at        BIGINT  NOT NULL,
    kind      TEXT    NOT NULL,
    message   BIGINT,
    actor     TEXT    NOT NULL,
    fields    TEXT    NOT NULL,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL
);

-- Export by time range and retention.
CREATE INDEX audit_log_at ON audit_log (at);
-- A message's history (search).
CREATE INDEX audit_log_message ON audit_log (message);

CREATE TABLE audit_head (
    id          BIGINT  PRIMARY KEY,
    seq         BIGINT  NOT NULL,
    hash        TEXT    NOT NULL,
    anchor_seq  BIGINT  NOT NULL,
    anchor_hash TEXT    NOT NULL
);

INSERT INTO audit_head (id, seq, hash, anchor_seq, anchor_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000',
        0, '0000000000000000000000000000000000000000000000000000000000000000');

-- The send ledger behind the frequency caps: one row per recipient's copy
-- planned, kept across restarts. Times are milliseconds since the Unix epoch.
-- sent_at is the planned delivery time (it may lie in the future).
-- message_id is set once the message is stored and may stay empty if storing failed.
-- Hashes are FNV-1a 64 of the normalised subject and own text, as signed 64-bit
-- integers, empty when there was nothing worth comparing.
-- No semicolons inside comments or strings: the runner splits on them.

CREATE TABLE sends (
    id           BIGSERIAL PRIMARY KEY,
    rcpt         TEXT    NOT NULL,
    rcpt_domain  TEXT    NOT NULL,
    message_id   BIGINT,
    sent_at      BIGINT  NOT NULL,
    cold         BIGINT  NOT NULL,
    subject_hash BIGINT,
    body_hash    BIGINT,
    created_at   BIGINT  NOT NULL
);

-- A recipient's copies around a time (every reservation).
CREATE INDEX sends_rcpt_at ON sends (rcpt, sent_at);
-- A domain's copies around a time (CAP_DOMAIN_DAILY).
CREATE INDEX sends_domain_at ON sends (rcpt_domain, sent_at);
-- Freeing a refused or dropped message's slots.
CREATE INDEX sends_message ON sends (message_id);

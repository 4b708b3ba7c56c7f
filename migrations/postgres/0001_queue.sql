-- The queue: one row per message, one row per recipient's copy.
-- Times are milliseconds since the Unix epoch (UTC).
-- No semicolons inside comments or strings: the runner splits on them.

CREATE TABLE messages (
    id                BIGSERIAL PRIMARY KEY,
    mail_from         TEXT    NOT NULL,
    data              BYTEA   NOT NULL,
    received_at       BIGINT  NOT NULL,
    client            TEXT    NOT NULL,
    auth_user         TEXT,
    message_id_header TEXT,
    subject           TEXT,
    size              BIGINT  NOT NULL,
    report            TEXT
);

CREATE TABLE deliveries (
    id             BIGSERIAL PRIMARY KEY,
    message_id     BIGINT  NOT NULL REFERENCES messages(id),
    rcpt           TEXT    NOT NULL,
    state          TEXT    NOT NULL,
    deliver_at     BIGINT  NOT NULL,
    first_due_at   BIGINT  NOT NULL,
    attempts       BIGINT  NOT NULL DEFAULT 0,
    last_reply     TEXT,
    owner          TEXT,
    lease_until    BIGINT,
    delay_notified BIGINT  NOT NULL DEFAULT 0,
    updated_at     BIGINT  NOT NULL
);

-- The claim: state = … AND deliver_at <= now, oldest first (and expired leases of 'delivering').
CREATE INDEX deliveries_due ON deliveries (state, deliver_at);
-- A message's copies (queue show, retry, drop) and the foreign key.
CREATE INDEX deliveries_message ON deliveries (message_id);
-- Listings: newest first, optionally of one state.
CREATE INDEX deliveries_state_id ON deliveries (state, id);

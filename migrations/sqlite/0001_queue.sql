-- The queue: one row per message, one row per recipient's copy.
-- Times are milliseconds since the Unix epoch (UTC).
-- No semicolons inside comments or strings: the runner splits on them.

CREATE TABLE messages (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    mail_from         TEXT    NOT NULL,
    data              BLOB    NOT NULL,
    received_at       INTEGER NOT NULL,
    client            TEXT    NOT NULL,
    auth_user         TEXT,
    message_id_header TEXT,
    subject           TEXT,
    size              INTEGER NOT NULL,
    report            TEXT
);

CREATE TABLE deliveries (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id     INTEGER NOT NULL REFERENCES messages(id),
    rcpt           TEXT    NOT NULL,
    state          TEXT    NOT NULL,
    deliver_at     INTEGER NOT NULL,
    first_due_at   INTEGER NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    last_reply     TEXT,
    owner          TEXT,
    lease_until    INTEGER,
    delay_notified INTEGER NOT NULL DEFAULT 0,
    updated_at     INTEGER NOT NULL
);

-- The claim: state = … AND deliver_at <= now, oldest first (and expired leases of 'delivering').
CREATE INDEX deliveries_due ON deliveries (state, deliver_at);
-- A message's copies (queue show, retry, drop) and the foreign key.
CREATE INDEX deliveries_message ON deliveries (message_id);
-- Listings: newest first, optionally of one state.
CREATE INDEX deliveries_state_id ON deliveries (state, id);

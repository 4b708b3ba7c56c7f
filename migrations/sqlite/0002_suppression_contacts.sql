-- Recipient facts: addresses we must not write to, and the people we know.
-- Addresses are stored normalised (local part lower-cased, domain in ASCII).
-- Times are milliseconds since the Unix epoch (UTC), flags are 0/1.
-- No semicolons inside comments or strings: the runner splits on them.

CREATE TABLE suppressions (
    address    TEXT    NOT NULL PRIMARY KEY,
    reason     TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

-- Listings: newest first.
CREATE INDEX suppressions_created ON suppressions (created_at);

CREATE TABLE contacts (
    address     TEXT    NOT NULL PRIMARY KEY,
    name        TEXT,
    country     TEXT,
    timezone    TEXT,
    established INTEGER NOT NULL DEFAULT 0,
    source      TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- What the inbox watcher learned from the sellers' mailboxes.
-- Times are milliseconds since the Unix epoch (UTC), flags are 0/1.
-- No semicolons inside comments or strings: the runner splits on them.

-- One row per buyer address (normal form) sendwell heard from: the zone
-- their own mail showed (and how it was learned), their last reply, and
-- until when they are away (an out-of-office reply).
CREATE TABLE learned (
    address        TEXT    NOT NULL PRIMARY KEY,
    timezone       TEXT,
    zone_source    TEXT,
    country        TEXT,
    last_reply_at  BIGINT ,
    reply_subject  TEXT,
    away_until     BIGINT ,
    away_note      TEXT,
    updated_at     BIGINT  NOT NULL
);

-- Where each watched folder was read up to: resumed after a restart or a
-- dropped connection. A new uidvalidity means the folder was rebuilt and
-- is read again from the start.
CREATE TABLE inbox_state (
    mailbox     TEXT    NOT NULL,
    folder      TEXT    NOT NULL,
    uidvalidity BIGINT  NOT NULL,
    last_uid    BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL,
    PRIMARY KEY (mailbox, folder)
);

-- Bounces that arrived later in a mailbox, permanent and temporary: the
-- permanent ones also went to the suppression list.
CREATE TABLE late_bounces (
    address    TEXT    NOT NULL,
    permanent  BIGINT  NOT NULL,
    status     TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    seen_at    BIGINT  NOT NULL
);

CREATE INDEX late_bounces_address ON late_bounces (address);

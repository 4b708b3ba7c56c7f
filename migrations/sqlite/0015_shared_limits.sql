-- Limits several nodes share (issue 15 §3). With SQLite there is one node
-- and the limits are counted in its memory: these tables stay empty. They
-- exist so both stores have the same tables (see the PostgreSQL migration
-- of the same number for what they hold there).
CREATE TABLE limit_cells (
    key          TEXT    PRIMARY KEY,
    tat          BIGINT  NOT NULL,
    ok           BOOLEAN NOT NULL,
    locked_until BIGINT
);

CREATE TABLE limit_windows (
    key  TEXT    PRIMARY KEY,
    sent TEXT    NOT NULL,
    ok   BOOLEAN NOT NULL
);

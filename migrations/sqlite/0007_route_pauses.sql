-- Routes paused because the provider refused the account (daily quota,
-- login, blocked): one row per paused route, deleted when it resumes.
-- Times are milliseconds since the Unix epoch (UTC). until_at: when the
-- next probe message may go.
CREATE TABLE route_pauses (
    route    TEXT    PRIMARY KEY,
    kind     TEXT    NOT NULL,
    reply    TEXT    NOT NULL,
    since    INTEGER NOT NULL,
    until_at INTEGER NOT NULL,
    probes   INTEGER NOT NULL DEFAULT 0
);

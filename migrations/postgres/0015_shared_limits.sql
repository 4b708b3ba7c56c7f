-- Limits several nodes share (issue 15 §3): on PostgreSQL the door's
-- sending rates and AUTH-failure counts, the review page's /login
-- throttle and the routes' per-minute pacing are counted here, so two
-- nodes count as one. Times are milliseconds of the database's clock.
-- UNLOGGED: a count is not worth a WAL flush on every recipient (it
-- costs one fsync per check otherwise); after a crash of the database the
-- tables come back empty, as a node's memory does after a restart, and a
-- standby does not have them.

-- One GCRA cell per key (kind, rate and whom it counts): tat is the
-- theoretical arrival time of the next request; a request at now is
-- allowed while max(tat, now) + interval - now stays within the burst.
-- locked_until: a lockout's lock (AUTH, /login), set when a failure was
-- one too many. ok: what the last request was told (read by RETURNING).
CREATE UNLOGGED TABLE limit_cells (
    key          TEXT    PRIMARY KEY,
    tat          BIGINT  NOT NULL,
    ok           BOOLEAN NOT NULL,
    locked_until BIGINT
);

-- Sliding windows ("N a minute" of a provider): the instants counted in
-- the window, oldest first.
CREATE UNLOGGED TABLE limit_windows (
    key  TEXT     PRIMARY KEY,
    sent BIGINT[] NOT NULL,
    ok   BOOLEAN  NOT NULL
);

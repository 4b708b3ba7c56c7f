-- Gateway nodes sharing this queue: one row per running process, written
-- by its heartbeat. A node whose heartbeat_at is older than
-- cluster.node_timeout is dead: its claims go back in line and its row is
-- deleted. Times are milliseconds since the Unix epoch (UTC).
CREATE TABLE nodes (
    id           TEXT    PRIMARY KEY,
    host         TEXT    NOT NULL,
    pid          INTEGER NOT NULL,
    version      TEXT    NOT NULL,
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL
);

-- A node's claims (renewal each heartbeat, takeover of a dead node, cluster status).
CREATE INDEX deliveries_owner ON deliveries (owner) WHERE state = 'delivering';

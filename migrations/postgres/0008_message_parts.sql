-- Large message bodies in parts. A body over the part size is stored as
-- rows of at most that size here (in seq order), and messages.data is left
-- empty: writing or reading one large value makes the database driver and
-- the database each hold whole copies of it, so a 25 MB message cost about
-- 100 MB of memory to store. messages.size tells a reader whether the body
-- is inline (data has size bytes) or in parts.
CREATE TABLE message_parts (
    message_id BIGINT NOT NULL REFERENCES messages(id),
    seq        BIGINT NOT NULL,
    data       BYTEA NOT NULL,
    PRIMARY KEY (message_id, seq)
);

-- The review page's chart and recent decisions read messages by arrival
-- and deliveries by their last change over the last days. Without these
-- they scan the whole queue.
CREATE INDEX messages_received ON messages (received_at);

CREATE INDEX deliveries_updated ON deliveries (updated_at);

-- The hot table stays small (issue 15 §4): the claim reads the copies
-- waiting to go (queued or deferred) in the order it takes them, from an
-- index that holds only those. Finished copies (delivered, bounced, ...)
-- and held ones are not in it, and the claim stops after the copies it
-- asks for, so its cost does not grow with the queue's history or with a
-- backlog of due copies. Its WHERE is written exactly as the claim's.
CREATE INDEX deliveries_waiting ON deliveries (deliver_at, id) WHERE state IN ('queued', 'deferred');

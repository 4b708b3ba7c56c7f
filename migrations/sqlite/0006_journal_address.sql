-- When a copy of the message went to the journal address (milliseconds),
-- so a message delivered to its recipients at different hours is
-- journaled once. NULL: not yet, or never (sendwell's own mail).
ALTER TABLE messages ADD COLUMN journaled_at INTEGER;

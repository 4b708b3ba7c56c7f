-- The no-reply reminder ([notices] remind_after): what became of a message
-- sent to buyers who had not written before. NULL: not decided yet
-- ('sent': its sender was reminded, 'answered': a recipient replied in
-- time, 'not_cold': it answered a thread, no reminder is due).
ALTER TABLE messages ADD COLUMN reminder TEXT;

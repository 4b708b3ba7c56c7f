-- Why a queued copy waits past the moment it was accepted: the schedule's
-- or the caps' reason (schedule::Wait's code: hours, weekend,
-- holiday:NAME, daily_cap, cold_gap, domain_cap). NULL: it does not wait,
-- or it waits for a retry (last_reply says why).
ALTER TABLE deliveries ADD COLUMN wait TEXT;

-- Messages that went out with warnings below the hold line and are not yet
-- in the daily digest to their sender ([notices] advice = "digest"). A row
-- goes when its digest is queued. Times are milliseconds since the Unix
-- epoch (UTC).
CREATE TABLE advice_due (
    message_id  BIGINT  NOT NULL PRIMARY KEY,
    mail_from   TEXT    NOT NULL,
    route       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE INDEX advice_due_sender ON advice_due (mail_from, created_at);

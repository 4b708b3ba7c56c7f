-- Routes (issue 10): each copy goes through the route chosen when its
-- message was accepted ([upstream] is the route 'default', each
-- [[upstream.routes]] one more by its name). A paused route's copies are
-- left out of the claim by this column.
ALTER TABLE deliveries ADD COLUMN route TEXT NOT NULL DEFAULT 'default';

-- A route's daily budget ([upstream] per_day), counted durably so a
-- restart does not reset it and several nodes share it: recipients handed
-- to the route's provider in one UTC day (day as YYYY-MM-DD).
CREATE TABLE route_budgets (
    route TEXT    NOT NULL,
    day   TEXT    NOT NULL,
    sent  BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (route, day)
);

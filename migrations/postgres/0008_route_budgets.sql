-- Routes (issue 10): each copy goes through the route chosen when its
-- message was accepted ([upstream] is the route 'default', each
-- [[upstream.routes]] one more by its name). A paused route's copies are
-- left out of the claim by this column.
ALTER TABLE deliveries ADD COLUMN route TEXT NOT NULL DEFAULT 'default';

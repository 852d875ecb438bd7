-- Storage for a fast uncached worklist (profiled with benches/bench_store.py, 100,000 studies).
-- study_status becomes an ENUM: its domain is closed (a status nobody knows is refused on write),
-- so the repo can say any set of statuses as one `=` or `<>`, which DuckDB evaluates inside the
-- scan once per distinct value; an IN list is evaluated row by row after the scan (+1.5 ms).
-- The lower-cased search columns are stored uncompressed: `contains` on FSST-compressed strings
-- decompresses every string first (3.9 ms per 100,000 names; 1.8 ms uncompressed). They are only
-- searched, never returned, and cost ~3 MB per 100,000 studies. DuckDB cannot change a column's
-- compression in place, hence add, copy, drop and rename.
CREATE TYPE study_status_t AS ENUM ('Arrived', 'InProgress', 'Completed');
ALTER TABLE study ALTER study_status SET DATA TYPE study_status_t;
ALTER TABLE study ALTER study_status SET DEFAULT 'Arrived';
ALTER TABLE study ADD COLUMN search_id_plain VARCHAR DEFAULT '' USING COMPRESSION uncompressed;
ALTER TABLE study ADD COLUMN search_name_plain VARCHAR DEFAULT '' USING COMPRESSION uncompressed;
ALTER TABLE study ADD COLUMN search_acc_plain VARCHAR DEFAULT '' USING COMPRESSION uncompressed;
ALTER TABLE study ALTER search_id_plain SET NOT NULL;
ALTER TABLE study ALTER search_name_plain SET NOT NULL;
ALTER TABLE study ALTER search_acc_plain SET NOT NULL;
UPDATE study SET search_id_plain = search_id, search_name_plain = search_name, search_acc_plain = search_acc;
ALTER TABLE study DROP COLUMN search_id;
ALTER TABLE study DROP COLUMN search_name;
ALTER TABLE study DROP COLUMN search_acc;
ALTER TABLE study RENAME search_id_plain TO search_id;
ALTER TABLE study RENAME search_name_plain TO search_name;
ALTER TABLE study RENAME search_acc_plain TO search_acc;
-- the recycle bin lists by deletion time: every study in it has one
UPDATE study SET deleted_at = create_time WHERE is_deleted AND deleted_at IS NULL;

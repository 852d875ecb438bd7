-- The start-up repair never deletes an image. Folders and image files that no row refers to (a
-- restored backup, a database mishap) are moved to <data_dir>/quarantine/<time>/<original path>
-- and listed here for service users.
CREATE SEQUENCE file_quarantine_id;
CREATE TABLE file_quarantine (
    id              BIGINT PRIMARY KEY DEFAULT nextval('file_quarantine_id'),
    quarantined_at  TIMESTAMPTZ NOT NULL,
    original_path   VARCHAR NOT NULL,   -- relative to the data directory
    quarantine_path VARCHAR NOT NULL,   -- relative to the data directory
    kind            VARCHAR NOT NULL,   -- study_folder | image_file
    files           INTEGER NOT NULL,
    bytes           BIGINT NOT NULL,
    reason          VARCHAR NOT NULL
);

-- Removals a permanent delete has committed (its rows are gone) but not yet carried out on disk.
-- A crash in between leaves the files; the next start finishes the removal the user asked for
-- instead of quarantining them. kind: study (recycle_bin/<name>/) | view (recycle_bin/views/<name>.*)
CREATE TABLE file_purge (
    kind       VARCHAR NOT NULL,
    name       VARCHAR NOT NULL,
    queued_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (kind, name)
);

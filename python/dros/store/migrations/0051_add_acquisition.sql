-- What an exposure produced, on the image row (dros.acquisition): display window, dose indices,
-- the generator's delivered technique, detector and acquisition time, and a reject reason.
ALTER TABLE image ADD COLUMN window_center DOUBLE;
ALTER TABLE image ADD COLUMN window_width DOUBLE;
ALTER TABLE image ADD COLUMN exposure_index DOUBLE;
ALTER TABLE image ADD COLUMN target_exposure_index DOUBLE;
ALTER TABLE image ADD COLUMN deviation_index DOUBLE;
ALTER TABLE image ADD COLUMN delivered_kv DOUBLE;
ALTER TABLE image ADD COLUMN delivered_ma DOUBLE;
ALTER TABLE image ADD COLUMN delivered_ms DOUBLE;
ALTER TABLE image ADD COLUMN delivered_mas DOUBLE;
ALTER TABLE image ADD COLUMN detector_id VARCHAR DEFAULT '';
ALTER TABLE image ADD COLUMN acquisition_time TIMESTAMPTZ;
ALTER TABLE image ADD COLUMN reject_reason VARCHAR DEFAULT '';

-- One row per exposure attempt that delivered dose: the durable record of the raw frame
-- (state raw_kept, committed before the first progress message), then done or failed with its reason.
-- Start-up recovery walks the raw_kept rows: reprocess from the raw file or mark failed.
CREATE TABLE exposure (
    exposure_id      VARCHAR PRIMARY KEY,
    sop_instance_uid VARCHAR NOT NULL,
    study_id         VARCHAR NOT NULL,
    state            VARCHAR NOT NULL,          -- raw_kept | done | failed
    failure          VARCHAR NOT NULL DEFAULT '',
    raw_file         VARCHAR NOT NULL DEFAULT '',
    raw_sha256       VARCHAR NOT NULL DEFAULT '',
    rows             INTEGER NOT NULL DEFAULT 0,
    cols             INTEGER NOT NULL DEFAULT 0,
    kv               DOUBLE,
    ma               DOUBLE,
    ms               DOUBLE,
    mas              DOUBLE,
    detector_id      VARCHAR NOT NULL DEFAULT '',
    preset           VARCHAR NOT NULL DEFAULT 'default',
    target_ei        DOUBLE NOT NULL DEFAULT 250,
    acquired_at      TIMESTAMPTZ NOT NULL,
    finished_at      TIMESTAMPTZ
);
CREATE INDEX exposure_sop ON exposure (sop_instance_uid);

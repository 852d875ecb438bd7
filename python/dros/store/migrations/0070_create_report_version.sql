-- Saved reports, one row per version: a later save adds a version and keeps the earlier ones.
-- Each version is also a DICOM Encapsulated PDF instance (`sop_instance_uid`, an `image` row of
-- image_type 'report' in the study's report series); the PDF itself is `<data>/studies/<study_id>/<pdf_file>`.
CREATE TABLE report_version (
    study_id            VARCHAR NOT NULL,
    version             INTEGER NOT NULL,
    sop_instance_uid    VARCHAR NOT NULL UNIQUE,
    series_instance_uid VARCHAR NOT NULL,
    product             VARCHAR NOT NULL,
    language            VARCHAR NOT NULL,
    content             VARCHAR NOT NULL,  -- the request's report fields as JSON, as sent
    pdf_file            VARCHAR NOT NULL,
    author              VARCHAR NOT NULL DEFAULT '',
    create_time         TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (study_id, version)
);

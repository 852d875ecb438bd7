-- Factory protocol catalog, one copy per product, replaced as a whole by the start-up installer when the
-- shipped catalog release changes (dros.domain.protocol.install). User edits never live here: see 0011.
CREATE TABLE protocol_catalog_release (
    id              INTEGER PRIMARY KEY,          -- always 1: one installed release
    catalog_version VARCHAR NOT NULL,
    content_hash    VARCHAR NOT NULL,             -- sha256 of the shipped data files
    installed_at    TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);
CREATE TABLE protocol_patient_type (
    product VARCHAR NOT NULL, catalog_version VARCHAR NOT NULL,
    id INTEGER NOT NULL, patient_type_id VARCHAR NOT NULL,
    name_en VARCHAR NOT NULL, name_zh VARCHAR NOT NULL, description_en VARCHAR NOT NULL, description_zh VARCHAR NOT NULL,
    sort INTEGER NOT NULL, is_enabled BOOLEAN NOT NULL, is_pre_install BOOLEAN NOT NULL DEFAULT TRUE,
    PRIMARY KEY (product, patient_type_id)
);
CREATE TABLE protocol_body_part (
    product VARCHAR NOT NULL, catalog_version VARCHAR NOT NULL,
    id INTEGER NOT NULL, body_part_id VARCHAR NOT NULL, patient_type VARCHAR NOT NULL,
    name_zh VARCHAR NOT NULL, name_en VARCHAR NOT NULL, category VARCHAR NOT NULL,
    sort INTEGER NOT NULL, is_enabled BOOLEAN NOT NULL, is_pre_install BOOLEAN NOT NULL DEFAULT TRUE,
    PRIMARY KEY (product, body_part_id)
);
CREATE TABLE protocol_view (
    product VARCHAR NOT NULL, catalog_version VARCHAR NOT NULL,
    id INTEGER NOT NULL, view_id VARCHAR NOT NULL, name_zh VARCHAR NOT NULL, name_en VARCHAR NOT NULL,
    view_position VARCHAR NOT NULL, application VARCHAR NOT NULL, anatomic_region VARCHAR NOT NULL,
    patient_type VARCHAR NOT NULL, body_part_id VARCHAR NOT NULL,
    view_icon_name VARCHAR NOT NULL, view_big_icon_name VARCHAR NOT NULL, view_coach_name VARCHAR NOT NULL,
    modality VARCHAR NOT NULL, work_station_id INTEGER NOT NULL, apr_id VARCHAR NOT NULL, img_proc_id VARCHAR NOT NULL,
    collimator_size VARCHAR NOT NULL, collimator_width VARCHAR NOT NULL, collimator_length VARCHAR NOT NULL,
    image_laterality VARCHAR NOT NULL, image_rotate VARCHAR NOT NULL, image_horizontal_flip VARCHAR NOT NULL,
    label_position VARCHAR NOT NULL, orientation_row VARCHAR NOT NULL, orientation_column VARCHAR NOT NULL,
    target_exi INTEGER NOT NULL, sort INTEGER NOT NULL, is_enabled BOOLEAN NOT NULL,
    is_pre_install BOOLEAN NOT NULL DEFAULT TRUE,
    PRIMARY KEY (product, view_id)
);
CREATE TABLE protocol_apr (
    product VARCHAR NOT NULL, catalog_version VARCHAR NOT NULL,
    apr_id VARCHAR NOT NULL, apr_name VARCHAR NOT NULL, description_zh VARCHAR NOT NULL, description_en VARCHAR NOT NULL,
    patient_type VARCHAR NOT NULL, body_part_id VARCHAR NOT NULL, view_position VARCHAR NOT NULL,
    category VARCHAR NOT NULL, modality VARCHAR NOT NULL, sort INTEGER NOT NULL, is_enabled BOOLEAN NOT NULL,
    is_pre_install BOOLEAN NOT NULL DEFAULT TRUE,
    PRIMARY KEY (product, apr_id)
);
CREATE TABLE protocol_apr_exposure (
    product VARCHAR NOT NULL, catalog_version VARCHAR NOT NULL,
    apr_id VARCHAR NOT NULL, work_station_id INTEGER NOT NULL, patient_size VARCHAR NOT NULL,
    kv DOUBLE NOT NULL, ma DOUBLE NOT NULL, ms DOUBLE NOT NULL, mas DOUBLE NOT NULL,
    focus INTEGER NOT NULL, aec_field VARCHAR NOT NULL, thickness INTEGER NOT NULL, grid_type INTEGER NOT NULL,
    PRIMARY KEY (product, apr_id, work_station_id, patient_size)
);
CREATE TABLE protocol_apr_device (
    product VARCHAR NOT NULL, catalog_version VARCHAR NOT NULL,
    apr_id VARCHAR NOT NULL, work_station_id INTEGER NOT NULL, sid INTEGER NOT NULL, grid_type INTEGER NOT NULL,
    detector_angle INTEGER NOT NULL, tube_angle INTEGER NOT NULL, apr_number VARCHAR NOT NULL,
    position_number VARCHAR NOT NULL, thickness DOUBLE NOT NULL,
    PRIMARY KEY (product, apr_id, work_station_id)
);
CREATE TABLE protocol_procedure (
    product VARCHAR NOT NULL, catalog_version VARCHAR NOT NULL,
    id INTEGER NOT NULL, procedure_id VARCHAR NOT NULL, name_zh VARCHAR NOT NULL, name_en VARCHAR NOT NULL,
    patient_type VARCHAR NOT NULL, body_part_id VARCHAR NOT NULL, procedure_type VARCHAR NOT NULL,
    fast_search BOOLEAN NOT NULL, protocol_laterality VARCHAR NOT NULL, procedure_category VARCHAR NOT NULL,
    modality VARCHAR NOT NULL, sort INTEGER NOT NULL, is_enabled BOOLEAN NOT NULL,
    is_pre_install BOOLEAN NOT NULL DEFAULT TRUE,
    PRIMARY KEY (product, procedure_id)
);
CREATE TABLE protocol_procedure_view (
    product VARCHAR NOT NULL, catalog_version VARCHAR NOT NULL,
    procedure_id VARCHAR NOT NULL, view_id VARCHAR NOT NULL, sort INTEGER NOT NULL,
    PRIMARY KEY (product, procedure_id, sort)
);
CREATE TABLE protocol_thickness_apr (
    catalog_version VARCHAR NOT NULL,
    thickness INTEGER PRIMARY KEY, kv DOUBLE NOT NULL, ma DOUBLE NOT NULL, ms DOUBLE NOT NULL, mas DOUBLE NOT NULL
);

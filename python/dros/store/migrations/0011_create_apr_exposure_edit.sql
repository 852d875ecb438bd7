-- The user's APR edits, an overlay over protocol_apr_exposure: reads take the edit where one exists.
-- The catalog installer never touches this table, so edits survive every catalog upgrade; deleting a row
-- (POST protocol/apr/{id} with "reset": true) restores the factory value.
CREATE TABLE protocol_apr_exposure_edit (
    product         VARCHAR NOT NULL,
    apr_id          VARCHAR NOT NULL,
    work_station_id INTEGER NOT NULL,
    patient_size    VARCHAR NOT NULL,
    kv              DOUBLE NOT NULL,
    ma              DOUBLE NOT NULL,
    ms              DOUBLE NOT NULL,
    mas             DOUBLE NOT NULL,
    edited_by       VARCHAR NOT NULL,
    edited_at       TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (product, apr_id, work_station_id, patient_size)
);

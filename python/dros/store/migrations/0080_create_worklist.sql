-- Modality Worklist and MPPS. The worklist itself lives in the RIS (queried with C-FIND on demand);
-- what DROS keeps is the mapping of requested procedure codes to catalog procedures, the order a
-- study was registered from, and the performed procedure steps with their durable delivery queue.

-- Requested Procedure Code (value + coding scheme) → catalog procedures of a product, edited by users.
CREATE TABLE worklist_procedure_map (
    product             VARCHAR NOT NULL,
    code_value          VARCHAR NOT NULL,
    coding_scheme       VARCHAR NOT NULL,
    code_meaning        VARCHAR NOT NULL DEFAULT '',
    procedure_ids       VARCHAR[] NOT NULL,
    update_time         TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (product, code_value, coding_scheme)
);

-- The worklist entry a study was registered from (DICOM JSON of the scheduled attributes the MPPS
-- N-CREATE repeats in its Scheduled Step Attributes Sequence).
CREATE TABLE worklist_study (
    study_id            VARCHAR PRIMARY KEY,
    entry_json          VARCHAR NOT NULL,
    create_time         TIMESTAMPTZ NOT NULL
);

-- One performed procedure step per study. status: IN PROGRESS, COMPLETED, DISCONTINUED.
CREATE TABLE mpps_step (
    study_id            VARCHAR PRIMARY KEY,
    mpps_uid            VARCHAR NOT NULL,
    status              VARCHAR NOT NULL,
    start_time          TIMESTAMPTZ NOT NULL,
    end_time            TIMESTAMPTZ
);

-- The reason a study is being left as DISCONTINUED (written before the leave that completes it).
CREATE TABLE mpps_discontinue (
    study_id            VARCHAR PRIMARY KEY,
    reason              VARCHAR NOT NULL,
    create_time         TIMESTAMPTZ NOT NULL
);

-- The delivery queue: one row per (message, node), delivered per node strictly in seq order.
-- state: PENDING, SENT, FAILED (refused by the peer: resending cannot help).
CREATE SEQUENCE mpps_message_seq START 1;
CREATE TABLE mpps_message (
    seq                 BIGINT PRIMARY KEY DEFAULT nextval('mpps_message_seq'),
    study_id            VARCHAR NOT NULL,
    mpps_uid            VARCHAR NOT NULL,
    node_id             INTEGER NOT NULL,
    kind                VARCHAR NOT NULL,
    pps_status          VARCHAR NOT NULL,
    dataset_json        VARCHAR NOT NULL,
    state               VARCHAR NOT NULL,
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     TIMESTAMPTZ NOT NULL,
    error               VARCHAR NOT NULL DEFAULT '',
    create_time         TIMESTAMPTZ NOT NULL,
    sent_time           TIMESTAMPTZ
);
CREATE INDEX mpps_message_node ON mpps_message (node_id, state);

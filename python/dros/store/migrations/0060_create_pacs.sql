-- PACS nodes and the durable send queue. Uniqueness (node names, one task per image and node) is
-- enforced by the repo inside the single writer's transaction: DuckDB's unique indexes check
-- over-eagerly when a row is updated twice in one transaction.
CREATE SEQUENCE pacs_node_id START 1;

CREATE TABLE pacs_node (
    id                  INTEGER PRIMARY KEY DEFAULT nextval('pacs_node_id'),
    name                VARCHAR NOT NULL,
    type                VARCHAR NOT NULL DEFAULT 'PACS',
    address             VARCHAR NOT NULL,
    port                INTEGER NOT NULL,
    aet                 VARCHAR NOT NULL,
    aec                 VARCHAR NOT NULL,
    is_enabled          BOOLEAN NOT NULL,
    is_default          BOOLEAN NOT NULL,
    -- JSON object: verbose, debug, associations, storage_commitment
    params              VARCHAR NOT NULL DEFAULT '{}',
    create_time         TIMESTAMPTZ NOT NULL
);

-- One row per (image, node). status: PENDING, SENDING, COMPLETED, COMMITTED, FAILED.
CREATE TABLE send_task (
    task_id             VARCHAR PRIMARY KEY,
    sop_instance_uid    VARCHAR NOT NULL,
    study_id            VARCHAR NOT NULL,
    node_id             INTEGER NOT NULL,
    destination         VARCHAR NOT NULL,
    patient_name        VARCHAR NOT NULL,
    patient_id          VARCHAR NOT NULL,
    priority            VARCHAR NOT NULL DEFAULT 'Medium',
    origin              VARCHAR NOT NULL,
    status              VARCHAR NOT NULL,
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     TIMESTAMPTZ NOT NULL,
    start_time          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    end_time            TIMESTAMPTZ,
    transfer_syntax     VARCHAR NOT NULL DEFAULT '',
    error               VARCHAR NOT NULL DEFAULT '',
    output              VARCHAR NOT NULL DEFAULT '',
    commit_uid          VARCHAR NOT NULL DEFAULT ''
);
CREATE INDEX send_task_start ON send_task (start_time);
CREATE INDEX send_task_sop ON send_task (sop_instance_uid);

-- Users, system settings (language, serial, …). Password hashes are argon2id strings.
CREATE SEQUENCE IF NOT EXISTS app_user_id_seq START 100;
CREATE TABLE app_user (
    id              INTEGER PRIMARY KEY,
    name            VARCHAR NOT NULL UNIQUE,
    role            VARCHAR NOT NULL,
    password_hash   VARCHAR NOT NULL,
    avatar          VARCHAR NOT NULL DEFAULT '',
    list_order      INTEGER NOT NULL,
    is_listed       BOOLEAN NOT NULL,
    password_changed_at TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);
CREATE TABLE system_setting (
    key         VARCHAR PRIMARY KEY,
    value       VARCHAR NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

-- Whether a user still has the installation's default password (warned about at start and shown
-- to service users). Users who never changed their password still have it.
ALTER TABLE app_user ADD COLUMN password_is_default BOOLEAN NOT NULL DEFAULT false;
UPDATE app_user SET password_is_default = (password_changed_at IS NULL AND role <> 'guest');

-- Accounts: password for new-device binding and recovery, payout cooling-off, freezing;
-- device-bound sessions with rotating refresh tokens.

ALTER TABLE accounts
    -- argon2id; null for a child account managed by a guardian (it never signs in itself).
    ADD COLUMN password_hash        text,
    -- Payout details (default e-wallet) must not change before this time: set when a new
    -- device is bound after registration or the phone number changes (SIM-swap defence).
    ADD COLUMN payout_locked_until  timestamptz,
    ADD COLUMN frozen_reason        text CHECK (frozen_reason IN ('deceased', 'officer')),
    ADD COLUMN level_raised_at      timestamptz,
    ADD COLUMN level_raised_by      text;

CREATE INDEX population_mother ON population (mother_id) WHERE mother_id IS NOT NULL;
CREATE INDEX population_father ON population (father_id) WHERE father_id IS NOT NULL;

-- One sign-in of one device: every refresh token it ever gets belongs to this family.
-- Reusing a rotated-out refresh token revokes the family (RFC 6819 §5.2.2.3).
CREATE TABLE refresh_families (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id  uuid        NOT NULL REFERENCES accounts (id),
    device_id   uuid        NOT NULL REFERENCES devices (id),
    -- When the device last signed a challenge: refreshing never makes a session "fresh".
    auth_time   timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    revoked_why text
);
CREATE INDEX refresh_families_account ON refresh_families (account_id) WHERE revoked_at IS NULL;
CREATE INDEX refresh_families_device ON refresh_families (device_id) WHERE revoked_at IS NULL;

-- Refresh tokens are stored as SHA-256 of the opaque token (256 random bits).
CREATE TABLE refresh_tokens (
    token_hash  bytea       PRIMARY KEY,
    family_id   uuid        NOT NULL REFERENCES refresh_families (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    used_at     timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- Officers rotate passwords; clients rotate secrets or keys.
ALTER TABLE officers ADD COLUMN password_changed_at timestamptz;
ALTER TABLE oauth_clients
    ADD COLUMN name        text,
    ADD COLUMN rotated_at  timestamptz;

-- A child's account is managed by the guardian until the child turns 14 (then it must be
-- claimed by the child through registration... or recovery with the guardian's help).
ALTER TABLE accounts ADD COLUMN guardian_until date;

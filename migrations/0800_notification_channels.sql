-- Notification channels are plugins (notifications/channels/): which channels and which
-- preferences exist is known from code, which validates them, never from a CHECK list here.

ALTER TABLE notification_deliveries DROP CONSTRAINT notification_deliveries_channel_check;
-- Was "only sms has no device": a per-device channel (push) names its device, others
-- (sms, e-mail) reach the account itself; the channel decides, not a constraint.
ALTER TABLE notification_deliveries DROP CONSTRAINT notification_deliveries_check;

-- Per-category choices: one row per (account, category, channel preference) instead of a
-- column per channel. A missing row means the category's default; existing choices move
-- over unchanged (one 'push' and one 'sms' row for each old row, same updated_at).
ALTER TABLE notification_preferences RENAME TO notification_preferences_by_column;
ALTER INDEX notification_preferences_pkey RENAME TO notification_preferences_by_column_pkey;
CREATE TABLE notification_preferences (
    account_id  uuid        NOT NULL REFERENCES accounts (id),
    category    text        NOT NULL,
    -- The preference a channel answers to: 'push' (fcm and apns), 'sms', 'email', ...
    channel     text        NOT NULL,
    enabled     boolean     NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, category, channel)
);
INSERT INTO notification_preferences (account_id, category, channel, enabled, updated_at)
SELECT p.account_id, p.category, c.channel, c.enabled, p.updated_at
FROM notification_preferences_by_column p
CROSS JOIN LATERAL (VALUES ('push', p.push), ('sms', p.sms)) AS c (channel, enabled);
DROP TABLE notification_preferences_by_column;

-- Addresses a citizen gives a channel and confirms with a code sent there (e-mail). The
-- confirmed address is the one notices go to; a new one waits in pending_address (with the
-- code's digest, expiry and wrong tries) until confirmed, while the old one keeps working.
CREATE TABLE notification_addresses (
    account_id       uuid        NOT NULL REFERENCES accounts (id),
    channel          text        NOT NULL,
    address          text,
    confirmed_at     timestamptz,
    pending_address  text,
    code_digest      text,
    code_expires_at  timestamptz,
    code_tries       integer     NOT NULL DEFAULT 0,
    -- Codes sent in the current hour (codes_since): a cap against mail bombing.
    codes_sent       integer     NOT NULL DEFAULT 0,
    codes_since      timestamptz NOT NULL DEFAULT now(),
    last_code_at     timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, channel),
    CHECK ((address IS NULL) = (confirmed_at IS NULL))
);

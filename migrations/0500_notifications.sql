-- Notifications: the citizen's inbox, their channel preferences, and one delivery row per
-- message sent outside the app (push to a device, SMS to the account's phone).

-- The inbox. Text is not stored: the kind and its parameters are rendered from the
-- templates (notifications/templates.json) in the account's current language when read,
-- so a change of language applies to old messages too.
CREATE TABLE notifications (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id      uuid        NOT NULL REFERENCES accounts (id),
    -- The outbox topic that caused it, e.g. 'payment.succeeded'.
    kind            text        NOT NULL,
    category        text        NOT NULL,
    params          jsonb       NOT NULL DEFAULT '{}'::jsonb,
    -- What the app opens: ('payment', id), ('document', id), ('device', id), ('wallet_link', id).
    ref_type        text,
    ref_id          text,
    -- Makes the outbox consumer idempotent: a redelivered event finds its row already there.
    dedupe_key      text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    read_at         timestamptz,
    UNIQUE (account_id, dedupe_key)
);
CREATE INDEX notifications_account_id ON notifications (account_id, id DESC);
CREATE INDEX notifications_unread ON notifications (account_id, id) WHERE read_at IS NULL;
CREATE INDEX notifications_created ON notifications (created_at);

-- Per-category choices of channel. A missing row means the category's defaults; mandatory
-- categories (security notices) ignore any row.
CREATE TABLE notification_preferences (
    account_id  uuid        NOT NULL REFERENCES accounts (id),
    category    text        NOT NULL,
    push        boolean     NOT NULL,
    sms         boolean     NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, category)
);

-- One message to one destination. Workers claim pending rows with FOR UPDATE SKIP LOCKED;
-- the claim moves available_at forward by a lease, so a dead worker's rows come back.
-- After the configured number of attempts a row is 'dead' (the dead letters); 'skipped'
-- means there was nowhere left to send it (device revoked, token invalidated).
CREATE TABLE notification_deliveries (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notification_id  bigint      NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    account_id       uuid        NOT NULL,
    channel          text        NOT NULL CHECK (channel IN ('fcm', 'apns', 'sms')),
    device_id        uuid        REFERENCES devices (id),
    state            text        NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'sent', 'dead', 'skipped')),
    attempts         integer     NOT NULL DEFAULT 0,
    available_at     timestamptz NOT NULL DEFAULT now(),
    lease_owner      text,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    CHECK ((channel = 'sms') = (device_id IS NULL))
);
CREATE INDEX notification_deliveries_claimable ON notification_deliveries (channel, available_at)
    WHERE state = 'pending';
CREATE INDEX notification_deliveries_dead ON notification_deliveries (channel, id) WHERE state = 'dead';
CREATE INDEX notification_deliveries_notification ON notification_deliveries (notification_id);

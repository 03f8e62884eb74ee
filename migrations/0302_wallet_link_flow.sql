-- The asynchronous linking flow: what the citizen asked for, OTP attempts, review flags.
ALTER TABLE wallet_links
    -- Whether this wallet becomes the payout wallet once active (the first one always does).
    ADD COLUMN make_default   boolean     NOT NULL DEFAULT true,
    ADD COLUMN otp_attempts   smallint    NOT NULL DEFAULT 0,
    ADD COLUMN otp_requested_at timestamptz,
    -- Why the link was flagged (e.g. the wallet is linked to another citizen); audit has the rest.
    ADD COLUMN review_reason  text;

-- A citizen has at most one live link to one wallet account: a second request for the same
-- wallet while one is in progress, active or under review is a duplicate.
CREATE UNIQUE INDEX wallet_links_one_live_per_citizen ON wallet_links (account_id, provider, wallet_account)
    WHERE state IN ('requested', 'inquiring', 'awaiting_otp', 'confirming', 'active', 'under_review');
CREATE INDEX wallet_links_wallet ON wallet_links (provider, wallet_account)
    WHERE state IN ('active', 'under_review');

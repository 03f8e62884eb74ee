-- E-wallet links: which e-wallet account a citizen has proven to own, and which is the
-- default for payouts. Later linking migrations (0301..0399) extend this table.
CREATE TABLE wallet_links (
    id                 uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id         uuid        NOT NULL REFERENCES accounts (id),
    provider           text        NOT NULL,
    wallet_account     text        NOT NULL,
    state              text        NOT NULL DEFAULT 'requested'
                       CHECK (state IN ('requested', 'inquiring', 'awaiting_otp', 'confirming', 'active',
                                        'refused', 'failed', 'unlinked', 'under_review')),
    refusal_reason     text,
    is_default         boolean     NOT NULL DEFAULT false,
    -- Payouts to this wallet hold until this time (SIM-swap / account-takeover defence).
    payout_hold_until  timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    activated_at       timestamptz,
    unlinked_at        timestamptz
);
CREATE UNIQUE INDEX wallet_links_one_default ON wallet_links (account_id) WHERE is_default AND state = 'active';
-- One wallet account may belong to one citizen only.
CREATE UNIQUE INDEX wallet_links_wallet_owner ON wallet_links (provider, wallet_account) WHERE state = 'active';
CREATE INDEX wallet_links_account ON wallet_links (account_id);

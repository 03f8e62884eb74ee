-- The OpenID4VCI authorization code flow (openid4vci/authorization/, docs/standards.md):
-- one row per pushed authorization request, from the wallet's PAR through the citizen's
-- decision in the app to the code's redemption at the token endpoint. Every secret the
-- flow hands out (request_uri, approval handle, the page's browser secret, the code) is
-- kept only as its SHA-256, so a copy of the table gives none of them. Rows are purged a
-- day after their last use (the decision itself is in the audit log).
CREATE TABLE vci_authorizations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    request_uri_hash bytea NOT NULL UNIQUE,
    client_id text NOT NULL,
    -- The wallet provider that attested the client at PAR (its attestation's iss), if any.
    attested_by text,
    wallet_name text,
    redirect_uri text NOT NULL,
    state text,
    code_challenge text NOT NULL,
    -- RFC 9449 §10: the DPoP key (JWK SHA-256 thumbprint) the code is bound to.
    dpop_jkt text,
    issuer_state text,
    -- [{"credential_configuration_id": …, "doc_type": …}] as asked for, normalised.
    requested jsonb NOT NULL,
    pushed_at timestamptz NOT NULL DEFAULT now(),
    request_expires_at timestamptz NOT NULL,
    opened_at timestamptz,
    handle_hash bytea UNIQUE,
    browser_hash bytea UNIQUE,
    approval_expires_at timestamptz,
    -- The first citizen who opens the handle in the app; nobody else sees or decides it.
    account_id uuid REFERENCES accounts (id) ON DELETE CASCADE,
    decision text CHECK (decision IN ('approved', 'denied')),
    decided_at timestamptz,
    document_ids uuid[],
    code_hash bytea UNIQUE,
    code_expires_at timestamptz,
    redeemed_at timestamptz,
    CHECK ((decision = 'approved') = (document_ids IS NOT NULL)),
    CHECK (code_hash IS NULL OR decision = 'approved')
);

CREATE INDEX vci_authorizations_purge ON vci_authorizations (pushed_at);

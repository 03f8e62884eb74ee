-- OpenID for Verifiable Credential Issuance 1.0 (openid4vci/): credentials issued to wallets
-- other than our app, and the pre-authorized credential offers that lead to them.

-- A credential issued through OID4VCI is bound to a key the wallet proved it holds, not to one
-- of our devices: device_id becomes optional and the key's RFC 7638 thumbprint is kept
-- instead. The rows stay in this table so that an agency's update, suspension or
-- revocation (all acting on credentials by document_id) reach them like any other. A batch
-- (one credential request, several keys) shares a batch_id; each row has its own
-- status-list position and salts. An mdoc is kept as its IssuerSigned bytes.
ALTER TABLE credentials
    ALTER COLUMN device_id DROP NOT NULL,
    ALTER COLUMN sd_jwt DROP NOT NULL,
    ADD COLUMN holder_jkt text,
    ADD COLUMN format text NOT NULL DEFAULT 'dc+sd-jwt' CHECK (format IN ('dc+sd-jwt', 'mso_mdoc')),
    ADD COLUMN batch_id uuid,
    ADD COLUMN mdoc bytea,
    ADD CONSTRAINT credentials_bound CHECK (device_id IS NOT NULL OR holder_jkt IS NOT NULL),
    ADD CONSTRAINT credentials_body CHECK (
        (format = 'dc+sd-jwt' AND sd_jwt IS NOT NULL AND mdoc IS NULL)
        OR (format = 'mso_mdoc' AND mdoc IS NOT NULL AND sd_jwt IS NULL));
CREATE INDEX credentials_batch ON credentials (batch_id) WHERE batch_id IS NOT NULL;

-- A credential offer of the pre-authorized code flow: which of one holder's documents a
-- wallet may fetch, once, before it expires. Neither the offer's URI reference nor the
-- pre-authorized code is kept, only their SHA-256 (both are 256 random bits and bearer
-- secrets: whoever holds them and the transaction code gets the credentials). The
-- transaction code is a few digits, so its digest is keyed by a server secret (an unkeyed
-- digest of six digits is reversed at once); it is NULL until the holder has seen it
-- (an agency's offer: the holder asks the app for it after the notice).
CREATE TABLE credential_offers (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    ref_hash        bytea       NOT NULL UNIQUE,
    code_hash       bytea       NOT NULL UNIQUE,
    tx_code_hash    text,
    account_id      uuid        NOT NULL REFERENCES accounts (id),
    document_ids    uuid[]      NOT NULL CHECK (cardinality(document_ids) BETWEEN 1 AND 20),
    -- Who made it: 'citizen' (the holder in the app) or the issuing agency's organisation.
    made_by         text        NOT NULL CHECK (made_by IN ('citizen', 'agency')),
    issuer_org_id   text        REFERENCES organisations (id),
    -- Wrong transaction codes so far; the offer dies at the configured maximum.
    tx_failures     smallint    NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    redeemed_at     timestamptz,
    CHECK ((made_by = 'agency') = (issuer_org_id IS NOT NULL))
);
CREATE INDEX credential_offers_account ON credential_offers (account_id, created_at DESC);
CREATE INDEX credential_offers_expiry ON credential_offers (expires_at);

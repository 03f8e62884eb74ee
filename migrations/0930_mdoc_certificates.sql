-- ISO/IEC 18013-5 certificates of the mdoc driving licence (documents/mdoc/): each issuing
-- agency's IACA root (self-signed) and the Document Signer certificates its IACA issued.
-- The keys themselves stay in signing_keys (purposes 'mdoc-iaca' and 'mdoc-ds', owner = the
-- agency), encrypted under the KEK; a row here is the public certificate of one such key.
-- Kept in PostgreSQL so that every API process publishes and signs with the same ones.
CREATE TABLE mdoc_certificates (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    role        text        NOT NULL CHECK (role IN ('iaca', 'document_signer')),
    org_id      text        NOT NULL REFERENCES organisations (id),
    -- The certified key (signing_keys.kid) and the key that signed the certificate (the
    -- same for a root). Not foreign keys: a key row outlives nothing it certified.
    kid         text        NOT NULL,
    issuer_kid  text        NOT NULL,
    not_before  timestamptz NOT NULL,
    not_after   timestamptz NOT NULL,
    der         bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (not_before < not_after)
);
-- One root certificate per IACA key; Document Signer certificates are renewed (same key,
-- newer certificate) before they run out, so a key may have several.
CREATE UNIQUE INDEX mdoc_certificates_one_root_per_key ON mdoc_certificates (kid) WHERE role = 'iaca';
CREATE INDEX mdoc_certificates_by_org ON mdoc_certificates (org_id, role, not_after);

-- The verifier service (openid4vp/, docs/openid4vp.md): the X.509 certificates of the keys
-- that sign its request objects, and OpenID4VP presentations in the holder's access log.

-- One row per certificate: the verifier CA's self-signed root (host '', issuer_kid NULL) and
-- the leaf certificate of each request-signing key for the host it names (its one SAN
-- dNSName, what the client identifier x509_san_dns:<host> says). The private keys stay in
-- signing_keys (purposes openid4vp-ca and openid4vp-request), wrapped under WALLET_KEK.
CREATE TABLE openid4vp_certificates (
    kid         text        NOT NULL REFERENCES signing_keys (kid),
    host        text        NOT NULL,
    issuer_kid  text        REFERENCES signing_keys (kid),
    der         bytea       NOT NULL,
    not_after   timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kid, host)
);

-- A verification through an OpenID4VP response is logged as every other one is, on its own channel.
ALTER TABLE document_views DROP CONSTRAINT document_views_channel_check;
ALTER TABLE document_views ADD CONSTRAINT document_views_channel_check
    CHECK (channel IN ('online', 'offline', 'openid4vp'));

-- Foundation: outbox, idempotency keys, audit log, signing keys.
-- Tables whose comment starts with 'reference' hold data that migrations load and tests keep.

-- Transactional outbox. A domain appends rows in the same transaction as its change, one
-- row per consumer subscribed to the topic. Workers claim rows with FOR UPDATE SKIP LOCKED;
-- a claim pushes available_at into the future, which is the lease: if the worker dies, the
-- row becomes claimable again when the lease runs out.
CREATE TABLE outbox (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic         text        NOT NULL,
    consumer      text        NOT NULL,
    key           text,
    payload       jsonb       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    available_at  timestamptz NOT NULL DEFAULT now(),
    attempts      integer     NOT NULL DEFAULT 0,
    lease_owner   text,
    last_error    text,
    state         text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'dead')),
    finished_at   timestamptz
);
CREATE INDEX outbox_claimable ON outbox (consumer, available_at) WHERE state = 'pending';
CREATE INDEX outbox_dead ON outbox (consumer, id) WHERE state = 'dead';

CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('wallet_outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- Idempotency keys: the first response to a POST with an Idempotency-Key, kept for replay.
CREATE TABLE idempotency_keys (
    principal     text        NOT NULL,
    key           text        NOT NULL,
    fingerprint   text        NOT NULL,
    method        text        NOT NULL,
    path          text        NOT NULL,
    state         text        NOT NULL CHECK (state IN ('in_progress', 'done')),
    locked_until  timestamptz,
    status        integer,
    headers       jsonb,
    body          bytea,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Audit log: append-only, each row chained to the previous one by SHA-256.
CREATE TABLE audit_log (
    seq         bigint      PRIMARY KEY,
    at          timestamptz NOT NULL,
    actor       text        NOT NULL,
    action      text        NOT NULL,
    subject     text,
    details     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    request_id  text,
    prev_hash   bytea       NOT NULL,
    hash        bytea       NOT NULL UNIQUE
);
CREATE INDEX audit_log_subject ON audit_log (subject, seq);

-- The head of the chain: detects a deleted tail, which a chain alone cannot.
CREATE TABLE audit_head (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq        bigint  NOT NULL,
    hash       bytea   NOT NULL
);
INSERT INTO audit_head (seq, hash) VALUES (0, '\x0000000000000000000000000000000000000000000000000000000000000000');

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Signing keys (access tokens, credential issuers). Private keys are encrypted under the
-- key-encryption key from configuration (AES-256-GCM); only public keys are stored clear.
CREATE TABLE signing_keys (
    kid              text        PRIMARY KEY,
    purpose          text        NOT NULL,
    owner            text,
    algorithm        text        NOT NULL DEFAULT 'ES256',
    public_jwk       jsonb       NOT NULL,
    private_key_enc  bytea       NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    active           boolean     NOT NULL DEFAULT true,
    retired_at       timestamptz,
    publish_until    timestamptz
);
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (purpose, coalesce(owner, '')) WHERE active;

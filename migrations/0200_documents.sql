-- Verifiable documents: what agencies issued, the credentials minted from them for each
-- device, the Token Status Lists that carry their revocation state, and the citizen's
-- access log of verifications.

-- A document as the issuing agency keeps it. One row per (agency, type, agency's number):
-- that natural key makes issuing idempotent. An update replaces the claims and raises the
-- version; credentials minted from an older version are revoked in the same transaction.
CREATE TABLE documents (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    issuer_org_id   text        NOT NULL REFERENCES organisations (id),
    doc_type        text        NOT NULL,
    agency_ref      text        NOT NULL,
    -- The holder's personal identification number: the one link to the person. Accounts are
    -- found through it, so a document issued before its holder signs up reaches them later.
    holder_id       char(12)    NOT NULL CHECK (holder_id ~ '^[0-9]{12}$'),
    version         integer     NOT NULL DEFAULT 1,
    state           text        NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'suspended', 'revoked')),
    claims          jsonb       NOT NULL,
    valid_from      date        NOT NULL,
    valid_until     date,
    state_reason    text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (issuer_org_id, doc_type, agency_ref)
);
CREATE INDEX documents_holder ON documents (holder_id);
CREATE INDEX documents_expiry ON documents (valid_until) WHERE state = 'active' AND valid_until IS NOT NULL;

-- Token Status Lists (IETF draft-ietf-oauth-status-list), one series per issuer, 2 bits per
-- entry. Entries are allocated at random positions and a list is closed at half capacity,
-- so that positions say nothing about who got a credential when.
CREATE TABLE status_lists (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    issuer_org_id   text        NOT NULL REFERENCES organisations (id),
    bits            smallint    NOT NULL DEFAULT 2 CHECK (bits IN (1, 2, 4, 8)),
    size            integer     NOT NULL CHECK (size > 0),
    allocated       integer     NOT NULL DEFAULT 0,
    -- Bumped in the transaction of every status change; the signed token is cached per version.
    version         bigint      NOT NULL DEFAULT 1,
    token           text,
    token_version   bigint,
    token_expires_at timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX status_lists_open ON status_lists (issuer_org_id, created_at) WHERE allocated * 2 < size;

-- An SD-JWT VC minted from one version of a document, bound to one device key.
CREATE TABLE credentials (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    document_id     uuid        NOT NULL REFERENCES documents (id),
    version         integer     NOT NULL,
    device_id       uuid        NOT NULL REFERENCES devices (id),
    kid             text        NOT NULL,
    status_list_id  uuid        NOT NULL REFERENCES status_lists (id),
    status_idx      integer     NOT NULL,
    -- Token Status List values: 0 valid, 1 invalid (revoked), 2 suspended.
    status          smallint    NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2)),
    sd_jwt          text        NOT NULL,
    issued_at       timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz,
    UNIQUE (status_list_id, status_idx)
);
CREATE UNIQUE INDEX credentials_current ON credentials (document_id, version, device_id) WHERE status <> 1;
CREATE INDEX credentials_document ON credentials (document_id);
CREATE INDEX credentials_kid ON credentials (kid);
CREATE INDEX credentials_status ON credentials (status_list_id) WHERE status <> 0;

-- Every verification of a citizen's document, for the citizen to read: who, when, what.
CREATE TABLE document_views (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id      uuid        NOT NULL REFERENCES documents (id),
    account_id       uuid        REFERENCES accounts (id),
    verifier_org_id  text        REFERENCES organisations (id),
    verifier         text        NOT NULL,
    channel          text        NOT NULL CHECK (channel IN ('online', 'offline')),
    fields           text[]      NOT NULL,
    outcome          text        NOT NULL,
    viewed_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX document_views_account ON document_views (account_id, viewed_at DESC);
CREATE INDEX document_views_document ON document_views (document_id, viewed_at DESC);

-- Daily expiry reminders already sent, so the loop is idempotent across workers and days.
CREATE TABLE document_expiry_notices (
    document_id  uuid    NOT NULL REFERENCES documents (id),
    expires_on   date    NOT NULL,
    sent_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (document_id, expires_on)
);

-- Identity core: the local population registry, citizen accounts, devices, organisations.
-- Later identity migrations (0101..0199) extend these tables.

-- The national population database is external; in development and tests this table is
-- its local implementation (wallet_api.accounts.registry.LocalRegistry reads it).
CREATE TABLE population (
    person_id           char(12)    PRIMARY KEY CHECK (person_id ~ '^[0-9]{12}$'),
    full_name           text        NOT NULL,
    date_of_birth       date        NOT NULL,
    sex                 text        NOT NULL CHECK (sex IN ('male', 'female')),
    place_of_origin     text        NOT NULL,
    residence_address   text        NOT NULL,
    residence_province  char(3)     NOT NULL,
    status              text        NOT NULL DEFAULT 'alive' CHECK (status IN ('alive', 'deceased')),
    died_on             date,
    father_id           char(12),
    mother_id           char(12),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX population_province_dob ON population (residence_province, date_of_birth);
CREATE INDEX population_parents ON population (father_id, mother_id);

-- A citizen account. It names a person by ID number once, here; everything else refers to
-- the account id, and tokens never carry the ID number.
CREATE TABLE accounts (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    person_id     char(12)    NOT NULL UNIQUE,
    phone         text        NOT NULL,
    level         smallint    NOT NULL DEFAULT 1 CHECK (level IN (1, 2)),
    state         text        NOT NULL DEFAULT 'active' CHECK (state IN ('pending', 'active', 'frozen', 'closed')),
    language      text        NOT NULL DEFAULT 'vi' CHECK (language IN ('vi', 'en')),
    -- A child under 14 is managed from a parent's account.
    guardian_account_id uuid  REFERENCES accounts (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX accounts_guardian ON accounts (guardian_account_id) WHERE guardian_account_id IS NOT NULL;

-- A phone bound to an account by its P-256 public key (the private key never leaves the phone).
CREATE TABLE devices (
    id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id     uuid        NOT NULL REFERENCES accounts (id),
    name           text        NOT NULL,
    public_jwk     jsonb       NOT NULL,
    -- Push delivery: 'fcm' or 'apns' and the gateway's token; null when the app has none.
    push_platform  text        CHECK (push_platform IN ('fcm', 'apns')),
    push_token     text,
    bound_at       timestamptz NOT NULL DEFAULT now(),
    last_seen_at   timestamptz,
    revoked_at     timestamptz
);
CREATE INDEX devices_account ON devices (account_id) WHERE revoked_at IS NULL;

-- Organisations: issuing agencies, welfare agencies, verifiers, e-wallet providers, police.
CREATE TABLE organisations (
    id              text        PRIMARY KEY,
    kind            text        NOT NULL CHECK (kind IN ('issuer', 'welfare', 'verifier', 'provider', 'police', 'admin')),
    name            text        NOT NULL,
    -- Document types an issuer may issue (documents plugin codes).
    document_types  text[]      NOT NULL DEFAULT '{}',
    -- Provinces a welfare agency or police unit serves (3-digit codes); empty means national.
    provinces       text[]      NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    disabled_at     timestamptz
);

-- Officers: people acting for an organisation with roles (police_officer, welfare_maker,
-- welfare_checker, issuer_operator, verifier_agent, admin).
CREATE TABLE officers (
    id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id         text        NOT NULL REFERENCES organisations (id),
    username       text        NOT NULL UNIQUE,
    display_name   text        NOT NULL,
    roles          text[]      NOT NULL DEFAULT '{}',
    password_hash  text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    disabled_at    timestamptz
);

-- OAuth2 clients of organisations (client credentials: private_key_jwt or a hashed secret).
CREATE TABLE oauth_clients (
    client_id      text        PRIMARY KEY,
    org_id         text        NOT NULL REFERENCES organisations (id),
    scopes         text[]      NOT NULL DEFAULT '{}',
    public_jwks    jsonb,
    secret_hash    text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    disabled_at    timestamptz,
    CHECK (public_jwks IS NOT NULL OR secret_hash IS NOT NULL)
);

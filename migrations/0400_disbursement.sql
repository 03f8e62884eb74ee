-- Welfare disbursement: programmes, beneficiaries, batches, payments, their transitions and a
-- double-entry ledger. Money is integer đồng (bigint) everywhere.

-- A welfare programme owned by one welfare organisation.
CREATE TABLE programmes (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        text        NOT NULL REFERENCES organisations (id),
    name          text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    legal_basis   text        NOT NULL CHECK (length(legal_basis) BETWEEN 1 AND 500),
    budget        bigint      NOT NULL CHECK (budget > 0),
    -- 'fixed': every beneficiary gets fixed_amount; 'per_row': the enrolment row sets it.
    amount_mode   text        NOT NULL CHECK (amount_mode IN ('fixed', 'per_row')),
    fixed_amount  bigint      CHECK (fixed_amount > 0),
    -- Provinces (3-digit codes) whose residents may be enrolled; empty means the whole country.
    provinces     text[]      NOT NULL DEFAULT '{}',
    schedule      text        NOT NULL CHECK (schedule IN ('one_off', 'monthly')),
    -- How long a held payment waits for the citizen (link a wallet, cooling-off) before the
    -- money returns to the budget.
    hold_days     integer     NOT NULL DEFAULT 30 CHECK (hold_days BETWEEN 1 AND 365),
    created_by    text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((amount_mode = 'fixed') = (fixed_amount IS NOT NULL)),
    UNIQUE (org_id, name)
);

-- One CSV upload or registry rule run that enrolled beneficiaries, with its outcome counts.
CREATE TABLE enrolments (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    programme_id  uuid        NOT NULL REFERENCES programmes (id),
    source        text        NOT NULL CHECK (source IN ('upload', 'rule')),
    rule          jsonb,
    created_by    text        NOT NULL,
    rows          bigint      NOT NULL DEFAULT 0,
    accepted      bigint      NOT NULL DEFAULT 0,
    rejected      bigint      NOT NULL DEFAULT 0,
    -- Accepted rows whose person has no linked wallet yet: enrolled, and held at payout.
    without_wallet bigint     NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX enrolments_programme ON enrolments (programme_id, created_at);

-- The per-row report of an upload: what happened to every line of the agency's file.
CREATE TABLE enrolment_rows (
    enrolment_id  uuid        NOT NULL REFERENCES enrolments (id) ON DELETE CASCADE,
    line_no       bigint      NOT NULL,
    person_id     text,
    amount        text,
    agency_ref    text,
    outcome       text        NOT NULL CHECK (outcome IN ('accepted', 'rejected')),
    reason        text,
    PRIMARY KEY (enrolment_id, line_no)
);

CREATE TABLE beneficiaries (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    programme_id  uuid        NOT NULL REFERENCES programmes (id),
    person_id     char(12)    NOT NULL,
    amount        bigint      NOT NULL CHECK (amount > 0),
    agency_ref    text,
    enrolment_id  uuid        REFERENCES enrolments (id),
    state         text        NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'stopped')),
    stopped_reason text       CHECK (stopped_reason IN ('deceased', 'removed')),
    enrolled_at   timestamptz NOT NULL DEFAULT now(),
    stopped_at    timestamptz,
    UNIQUE (programme_id, person_id)
);
CREATE INDEX beneficiaries_person ON beneficiaries (person_id) WHERE state = 'active';

-- One cycle of a programme. Maker-checker: the database refuses an approval by the maker.
CREATE TABLE batches (
    id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    programme_id   uuid        NOT NULL REFERENCES programmes (id),
    -- 'once' for a one-off programme, 'YYYY-MM' for a monthly one.
    cycle          text        NOT NULL CHECK (cycle = 'once' OR cycle ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    control_count  bigint      NOT NULL CHECK (control_count > 0),
    control_sum    bigint      NOT NULL CHECK (control_sum > 0),
    state          text        NOT NULL DEFAULT 'draft'
                   CHECK (state IN ('draft', 'approved', 'released', 'cancelled')),
    maker          text        NOT NULL,
    checker        text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    approved_at    timestamptz,
    released_at    timestamptz,
    released_by    text,
    cancelled_at   timestamptz,
    cancelled_by   text,
    CONSTRAINT batches_four_eyes CHECK (checker IS NULL OR checker <> maker),
    CHECK ((state IN ('approved', 'released')) <= (checker IS NOT NULL))
);
-- One live batch per cycle; a cancelled one (never released) does not block its replacement.
CREATE UNIQUE INDEX batches_one_per_cycle ON batches (programme_id, cycle) WHERE state <> 'cancelled';

-- One payment to one beneficiary in one cycle. Its id is created and committed with the
-- batch, before anything is sent, and is the provider's idempotency key.
CREATE TABLE payments (
    id              uuid        PRIMARY KEY,
    batch_id        uuid        NOT NULL REFERENCES batches (id),
    programme_id    uuid        NOT NULL REFERENCES programmes (id),
    cycle           text        NOT NULL,
    beneficiary_id  uuid        NOT NULL REFERENCES beneficiaries (id),
    person_id       char(12)    NOT NULL,
    amount          bigint      NOT NULL CHECK (amount > 0),
    state           text        NOT NULL DEFAULT 'created'
                    CHECK (state IN ('created', 'held', 'approved', 'sending', 'succeeded', 'failed', 'unknown',
                                     'reconciled', 'reversed', 'manual_review', 'returned', 'cancelled')),
    hold_reason     text        CHECK (hold_reason IN ('no_wallet', 'wallet_cooling_off', 'deceased', 'name_mismatch')),
    hold_until      timestamptz,
    account_id      uuid,
    link_id         uuid,
    provider        text,
    wallet_account  text,
    provider_ref    text,
    failure_reason  text,
    send_attempts   integer     NOT NULL DEFAULT 0,
    status_checks   integer     NOT NULL DEFAULT 0,
    lease_owner     text,
    lease_until     timestamptz,
    next_check_at   timestamptz,
    first_sent_at   timestamptz,
    settled_at      timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- A returned payment keeps its hold reason: the not-reached report says why.
    CHECK ((state = 'held') <= (hold_reason IS NOT NULL) AND (state IN ('held', 'returned') OR hold_reason IS NULL)),
    CHECK (state NOT IN ('approved', 'sending') OR (provider IS NOT NULL AND wallet_account IS NOT NULL))
);
-- One benefit per beneficiary per cycle, by construction. A cancelled payment (its batch
-- was cancelled before release, so it was never reserved or sent) does not count.
CREATE UNIQUE INDEX payments_once_per_cycle ON payments (programme_id, cycle, beneficiary_id) WHERE state <> 'cancelled';
CREATE INDEX payments_batch_state ON payments (batch_id, state);
CREATE INDEX payments_approved ON payments (provider, id) WHERE state = 'approved';
CREATE INDEX payments_in_flight ON payments (lease_until) WHERE state = 'sending';
CREATE INDEX payments_unknown ON payments (next_check_at) WHERE state = 'unknown';
CREATE INDEX payments_held ON payments (hold_until) WHERE state = 'held';
CREATE INDEX payments_held_account ON payments (account_id) WHERE state = 'held';
CREATE INDEX payments_pending_person ON payments (person_id) WHERE state IN ('created', 'held', 'approved');
CREATE INDEX payments_account ON payments (account_id, updated_at);
CREATE INDEX payments_settled ON payments (provider, settled_at) WHERE state = 'succeeded';

-- The state machine, as data: every allowed move. A trigger refuses any other and records
-- every move in payment_transitions. 'sending' is entered only from 'approved', and nothing
-- leads back to 'approved' except a provider's answer that it does not have the payment
-- (resent with the same id, which the provider deduplicates) or a 429 (nothing was done).
CREATE TABLE payment_state_edges (
    from_state  text NOT NULL,
    to_state    text NOT NULL,
    PRIMARY KEY (from_state, to_state)
);
COMMENT ON TABLE payment_state_edges IS 'reference: allowed payment state transitions';
INSERT INTO payment_state_edges (from_state, to_state) VALUES
    ('created', 'approved'), ('created', 'held'), ('created', 'cancelled'),
    ('held', 'approved'), ('held', 'held'), ('held', 'returned'),
    ('approved', 'sending'), ('approved', 'held'),
    ('sending', 'succeeded'), ('sending', 'failed'), ('sending', 'unknown'), ('sending', 'approved'),
    ('unknown', 'succeeded'), ('unknown', 'failed'), ('unknown', 'approved'), ('unknown', 'manual_review'),
    ('succeeded', 'reconciled'), ('succeeded', 'reversed'), ('succeeded', 'manual_review'),
    ('reconciled', 'reversed'), ('reconciled', 'manual_review'),
    ('failed', 'manual_review');

CREATE TABLE payment_transitions (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payment_id  uuid        NOT NULL,
    from_state  text,
    to_state    text        NOT NULL,
    reason      text,
    actor       text        NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_transitions_payment ON payment_transitions (payment_id, id);

-- Who moves payments and why is set per transaction with SET LOCAL wallet.actor / wallet.reason.
CREATE FUNCTION payments_record_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO payment_transitions (payment_id, from_state, to_state, reason, actor)
        VALUES (NEW.id, NULL, NEW.state, NEW.hold_reason,
                coalesce(nullif(current_setting('wallet.actor', true), ''), 'system'));
        RETURN NEW;
    END IF;
    IF NEW.state IS DISTINCT FROM OLD.state OR NEW.hold_reason IS DISTINCT FROM OLD.hold_reason THEN
        IF NOT EXISTS (SELECT 1 FROM payment_state_edges WHERE from_state = OLD.state AND to_state = NEW.state) THEN
            RAISE EXCEPTION 'payment % may not move from % to %', OLD.id, OLD.state, NEW.state
                USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.state = 'sending' THEN
            NEW.send_attempts := OLD.send_attempts + 1;
            NEW.first_sent_at := coalesce(OLD.first_sent_at, now());
        END IF;
        NEW.updated_at := now();
        INSERT INTO payment_transitions (payment_id, from_state, to_state, reason, actor)
        VALUES (NEW.id, OLD.state, NEW.state,
                coalesce(nullif(current_setting('wallet.reason', true), ''), NEW.hold_reason, NEW.failure_reason),
                coalesce(nullif(current_setting('wallet.actor', true), ''), 'system'));
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER payments_transition_insert AFTER INSERT ON payments
    FOR EACH ROW EXECUTE FUNCTION payments_record_transition();
CREATE TRIGGER payments_transition_update BEFORE UPDATE OF state, hold_reason ON payments
    FOR EACH ROW EXECUTE FUNCTION payments_record_transition();

-- Double-entry ledger. Each programme has one account of each kind (in_flight one per
-- provider). An entry's amount is signed: money leaves an account with a negative amount
-- and enters another with a positive one, and every transaction sums to zero.
--   appropriation  the legal allocation the budget comes from (goes negative)
--   budget         available to release
--   reserved       released batches, not yet sent
--   in_flight      sent to a provider, outcome not final
--   paid           money in citizens' wallets
--   returned       came back (failed, hold ended, death, reversal) and is available again
CREATE TABLE ledger_accounts (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    programme_id  uuid        NOT NULL REFERENCES programmes (id),
    kind          text        NOT NULL CHECK (kind IN ('appropriation', 'budget', 'reserved', 'in_flight', 'paid', 'returned')),
    provider      text        NOT NULL DEFAULT '',
    CHECK ((kind = 'in_flight') = (provider <> '')),
    UNIQUE (programme_id, kind, provider)
);

CREATE TABLE ledger_transactions (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    programme_id  uuid        NOT NULL REFERENCES programmes (id),
    kind          text        NOT NULL CHECK (kind IN ('appropriate', 'reserve', 'send', 'settle', 'fail',
                                                       'expire', 'reverse', 'cancel')),
    payment_id    uuid,
    batch_id      uuid,
    at            timestamptz NOT NULL DEFAULT now(),
    CHECK (num_nonnulls(payment_id, batch_id) <= 1),
    -- Replays (a worker retrying, a webhook arriving twice) insert nothing.
    CONSTRAINT ledger_once_per_payment UNIQUE (payment_id, kind),
    CONSTRAINT ledger_once_per_batch UNIQUE (batch_id, kind)
);
CREATE UNIQUE INDEX ledger_one_appropriation ON ledger_transactions (programme_id) WHERE kind = 'appropriate';

CREATE TABLE ledger_entries (
    id              bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id  bigint  NOT NULL REFERENCES ledger_transactions (id),
    account_id      bigint  NOT NULL REFERENCES ledger_accounts (id),
    amount          bigint  NOT NULL CHECK (amount <> 0)
);
CREATE INDEX ledger_entries_transaction ON ledger_entries (transaction_id);
CREATE INDEX ledger_entries_account ON ledger_entries (account_id);

-- Checked at commit, after all of a transaction's entries are in.
CREATE FUNCTION ledger_transaction_balances() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    total numeric;
BEGIN
    SELECT coalesce(sum(amount), 0) INTO total FROM ledger_entries WHERE transaction_id = NEW.transaction_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % does not balance (off by %)', NEW.transaction_id, total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_transaction_balances();

CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER ledger_entries_no_change BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_transactions_no_change BEFORE UPDATE OR DELETE ON ledger_transactions
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

-- Provider callbacks already applied (deduplication of webhooks delivered more than once).
CREATE TABLE provider_events (
    provider     text        NOT NULL,
    event_id     text        NOT NULL,
    payment_id   uuid,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, event_id)
);

-- Reconciliation of one provider statement (one provider, one day).
CREATE TABLE reconciliations (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    provider     text        NOT NULL,
    day          date        NOT NULL,
    created_by   text        NOT NULL,
    lines        bigint      NOT NULL DEFAULT 0,
    counts       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Every statement line and every payment of ours the statement should have had, classified.
CREATE TABLE reconciliation_lines (
    reconciliation_id  uuid    NOT NULL REFERENCES reconciliations (id) ON DELETE CASCADE,
    line_no            bigint  NOT NULL,
    payment_id         text,
    programme_id       uuid,
    batch_id           uuid,
    provider_ref       text,
    kind               text,
    statement_amount   bigint,
    our_amount         bigint,
    outcome            text    NOT NULL CHECK (outcome IN ('matched', 'missing_at_provider', 'unknown_to_us',
                                                           'duplicate', 'amount_mismatch', 'reversal',
                                                           'paid_but_failed_here')),
    PRIMARY KEY (reconciliation_id, line_no)
);
CREATE INDEX reconciliation_lines_programme ON reconciliation_lines (programme_id, outcome);
CREATE INDEX reconciliation_lines_batch ON reconciliation_lines (batch_id, outcome);

-- Deaths are few: this lets the stop-on-death sweep find them without scanning the registry.
CREATE INDEX population_deceased ON population (person_id) WHERE status = 'deceased';

-- What the migrations in migrations/ add up to. Generated: do not edit; run `wallet schema dump`.
--
-- PostgreSQL database dump
--


SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: audit_log_append_only(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.audit_log_append_only() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;


--
-- Name: beneficiaries_checked(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.beneficiaries_checked() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    missing uuid;
BEGIN
    SELECT n.programme_id INTO missing
    FROM new_rows n
    WHERE NOT EXISTS (SELECT 1 FROM programmes p WHERE p.id = n.programme_id)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'beneficiary names a missing programme %', missing
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;


--
-- Name: beneficiaries_programme_fixed(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.beneficiaries_programme_fixed() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    RAISE EXCEPTION 'a beneficiary cannot move to another programme' USING ERRCODE = 'check_violation';
END $$;


--
-- Name: ledger_append_only(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.ledger_append_only() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;


--
-- Name: ledger_entries_checked(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.ledger_entries_checked() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    bad record;
BEGIN
    SELECT transaction_id, sum(amount) AS off INTO bad
    FROM new_entries
    GROUP BY transaction_id
    HAVING sum(amount) <> 0
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % does not balance (off by %)', bad.transaction_id, bad.off
            USING ERRCODE = 'check_violation';
    END IF;
    SELECT n.transaction_id, n.account_id INTO bad
    FROM new_entries n
    WHERE NOT EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.id = n.transaction_id)
       OR NOT EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.id = n.account_id)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger entry names a missing transaction % or account %', bad.transaction_id, bad.account_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;


--
-- Name: ledger_transactions_checked(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.ledger_transactions_checked() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    missing uuid;
BEGIN
    SELECT n.programme_id INTO missing
    FROM new_transactions n
    WHERE NOT EXISTS (SELECT 1 FROM programmes p WHERE p.id = n.programme_id)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction names a missing programme %', missing
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;


--
-- Name: outbox_notify(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.outbox_notify() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM pg_notify('wallet_outbox', '');
    RETURN NULL;
END $$;


--
-- Name: payments_bookkeeping(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.payments_bookkeeping() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF NEW.state IS DISTINCT FROM OLD.state THEN
        IF NEW.state = 'sending' THEN
            NEW.send_attempts := OLD.send_attempts + 1;
            NEW.first_sent_at := coalesce(OLD.first_sent_at, now());
            NEW.last_sent_at := now();
        END IF;
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END $$;


--
-- Name: payments_mark_failed(uuid[], text[]); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.payments_mark_failed(ids uuid[], reasons text[]) RETURNS TABLE(id uuid)
    LANGUAGE sql
    SET enable_nestloop TO 'off'
    AS $$
    UPDATE payments p
    SET state = 'failed', failure_reason = r.reason, lease_owner = NULL, lease_until = NULL, next_check_at = NULL
    FROM unnest(ids, reasons) AS r(id, reason)
    WHERE p.id = ANY (ids) AND p.id = r.id AND p.state IN ('sending', 'unknown')
    RETURNING p.id
$$;


--
-- Name: payments_mark_succeeded(uuid[], text[]); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.payments_mark_succeeded(ids uuid[], refs text[]) RETURNS TABLE(id uuid, account_id uuid, amount bigint, programme_name text)
    LANGUAGE sql
    SET enable_nestloop TO 'off'
    AS $$
    UPDATE payments p
    SET state = 'succeeded', provider_ref = coalesce(r.ref, p.provider_ref), settled_at = now(),
        lease_owner = NULL, lease_until = NULL, next_check_at = NULL
    FROM unnest(ids, refs) AS r(id, ref)
    WHERE p.id = ANY (ids) AND p.id = r.id AND p.state IN ('sending', 'unknown')
    RETURNING p.id, p.account_id, p.amount, (SELECT name FROM programmes WHERE programmes.id = p.programme_id)
$$;


--
-- Name: payments_owner_fixed(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.payments_owner_fixed() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    RAISE EXCEPTION 'a payment cannot move to another batch, programme or beneficiary'
        USING ERRCODE = 'check_violation';
END $$;


--
-- Name: payments_record_inserts(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.payments_record_inserts() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    INSERT INTO payment_transitions (payment_id, from_state, to_state, reason, actor)
    SELECT n.id, NULL, n.state, n.hold_reason, coalesce(nullif(current_setting('wallet.actor', true), ''), 'system')
    FROM new_rows n;
    RETURN NULL;
END $$;


--
-- Name: payments_record_moves(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.payments_record_moves() RETURNS trigger
    LANGUAGE plpgsql
    SET enable_nestloop TO 'off'
    AS $$
DECLARE
    bad record;
BEGIN
    SELECT o.id, o.state AS from_state, n.state AS to_state INTO bad
    FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE (n.state IS DISTINCT FROM o.state OR n.hold_reason IS DISTINCT FROM o.hold_reason)
      AND NOT EXISTS (SELECT 1 FROM payment_state_edges e WHERE e.from_state = o.state AND e.to_state = n.state)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'payment % may not move from % to %', bad.id, bad.from_state, bad.to_state
            USING ERRCODE = 'check_violation';
    END IF;
    INSERT INTO payment_transitions (payment_id, from_state, to_state, reason, actor)
    SELECT n.id, o.state, n.state,
           coalesce(nullif(current_setting('wallet.reason', true), ''), n.hold_reason, n.failure_reason),
           coalesce(nullif(current_setting('wallet.actor', true), ''), 'system')
    FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE n.state IS DISTINCT FROM o.state OR n.hold_reason IS DISTINCT FROM o.hold_reason;
    RETURN NULL;
END $$;


--
-- Name: payments_references_checked(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.payments_references_checked() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    bad record;
BEGIN
    SELECT n.id INTO bad
    FROM new_rows n
    WHERE NOT EXISTS (SELECT 1 FROM batches b WHERE b.id = n.batch_id AND b.programme_id = n.programme_id)
       OR NOT EXISTS (SELECT 1 FROM beneficiaries f WHERE f.id = n.beneficiary_id AND f.programme_id = n.programme_id)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'payment % names a missing batch or beneficiary of its programme', bad.id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;


--
-- Name: refuse_delete(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.refuse_delete() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    RAISE EXCEPTION '% rows are never deleted (payments name them); stop or cancel instead', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END $$;


--
-- Name: time_ordered_uuid(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.time_ordered_uuid() RETURNS uuid
    LANGUAGE sql PARALLEL SAFE
    AS $$
    -- RFC 9562 version 7: 48-bit Unix milliseconds, then the random bits of a version 4
    -- uuid with its version nibble changed from 4 to 7.
    SELECT encode(
        set_bit(set_bit(
            overlay(uuid_send(gen_random_uuid())
                    PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                    FROM 1 FOR 6),
            52, 1), 53, 1),
        'hex')::uuid
$$;


SET default_table_access_method = heap;

--
-- Name: accounts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.accounts (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    person_id character(12) NOT NULL,
    phone text NOT NULL,
    level smallint DEFAULT 1 NOT NULL,
    state text DEFAULT 'active'::text NOT NULL,
    language text DEFAULT 'vi'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    password_hash text,
    payout_locked_until timestamp with time zone,
    frozen_reason text,
    level_raised_at timestamp with time zone,
    level_raised_by text,
    CONSTRAINT accounts_frozen_reason_check CHECK ((frozen_reason = ANY (ARRAY['deceased'::text, 'officer'::text]))),
    CONSTRAINT accounts_language_check CHECK ((language = ANY (ARRAY['vi'::text, 'en'::text]))),
    CONSTRAINT accounts_level_check CHECK ((level = ANY (ARRAY[1, 2]))),
    CONSTRAINT accounts_state_check CHECK ((state = ANY (ARRAY['pending'::text, 'active'::text, 'frozen'::text, 'closed'::text])))
);


--
-- Name: population; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.population (
    person_id character(12) NOT NULL,
    full_name text NOT NULL,
    date_of_birth date NOT NULL,
    sex text NOT NULL,
    place_of_origin text NOT NULL,
    residence_address text NOT NULL,
    residence_province character(3) NOT NULL,
    status text DEFAULT 'alive'::text NOT NULL,
    died_on date,
    father_id character(12),
    mother_id character(12),
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT population_person_id_check CHECK ((person_id ~ '^[0-9]{12}$'::text)),
    CONSTRAINT population_sex_check CHECK ((sex = ANY (ARRAY['male'::text, 'female'::text]))),
    CONSTRAINT population_status_check CHECK ((status = ANY (ARRAY['alive'::text, 'deceased'::text])))
);


--
-- Name: account_contacts; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.account_contacts AS
 SELECT a.id AS account_id,
    a.person_id,
    a.state,
    a.level,
    a.language,
    a.phone,
    p.full_name
   FROM (public.accounts a
     LEFT JOIN public.population p ON ((p.person_id = a.person_id)));


--
-- Name: account_guardians; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.account_guardians (
    child_account_id uuid NOT NULL,
    guardian_account_id uuid NOT NULL,
    since timestamp with time zone DEFAULT now() NOT NULL,
    until date,
    CONSTRAINT account_guardians_check CHECK ((child_account_id <> guardian_account_id))
);


--
-- Name: audit_head; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit_head (
    singleton boolean DEFAULT true NOT NULL,
    seq bigint NOT NULL,
    hash bytea NOT NULL,
    CONSTRAINT audit_head_singleton_check CHECK (singleton)
);


--
-- Name: audit_log; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit_log (
    seq bigint NOT NULL,
    at timestamp with time zone NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    subject text,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    request_id text,
    prev_hash bytea NOT NULL,
    hash bytea NOT NULL
);


--
-- Name: batches; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.batches (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    programme_id uuid NOT NULL,
    cycle text NOT NULL,
    control_count bigint NOT NULL,
    control_sum bigint NOT NULL,
    state text DEFAULT 'draft'::text NOT NULL,
    maker text NOT NULL,
    checker text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    approved_at timestamp with time zone,
    released_at timestamp with time zone,
    released_by text,
    cancelled_at timestamp with time zone,
    cancelled_by text,
    resolved_at timestamp with time zone,
    CONSTRAINT batches_check CHECK (((state = ANY (ARRAY['approved'::text, 'released'::text])) <= (checker IS NOT NULL))),
    CONSTRAINT batches_control_count_check CHECK ((control_count > 0)),
    CONSTRAINT batches_control_sum_check CHECK ((control_sum > 0)),
    CONSTRAINT batches_cycle_check CHECK (((cycle = 'once'::text) OR (cycle ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'::text))),
    CONSTRAINT batches_four_eyes CHECK (((checker IS NULL) OR (checker <> maker))),
    CONSTRAINT batches_state_check CHECK ((state = ANY (ARRAY['draft'::text, 'approved'::text, 'released'::text, 'cancelled'::text])))
);


--
-- Name: beneficiaries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.beneficiaries (
    id uuid DEFAULT public.time_ordered_uuid() NOT NULL,
    programme_id uuid NOT NULL,
    person_id character(12) NOT NULL,
    amount bigint NOT NULL,
    agency_ref text,
    enrolment_id uuid,
    state text DEFAULT 'active'::text NOT NULL,
    stopped_reason text,
    enrolled_at timestamp with time zone DEFAULT now() NOT NULL,
    stopped_at timestamp with time zone,
    line_no bigint,
    CONSTRAINT beneficiaries_amount_check CHECK ((amount > 0)),
    CONSTRAINT beneficiaries_state_check CHECK ((state = ANY (ARRAY['active'::text, 'stopped'::text]))),
    CONSTRAINT beneficiaries_stopped_reason_check CHECK ((stopped_reason = ANY (ARRAY['deceased'::text, 'removed'::text])))
);


--
-- Name: credential_offers; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.credential_offers (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    ref_hash bytea NOT NULL,
    code_hash bytea NOT NULL,
    tx_code_hash text,
    account_id uuid NOT NULL,
    document_ids uuid[] NOT NULL,
    made_by text NOT NULL,
    issuer_org_id text,
    tx_failures smallint DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    redeemed_at timestamp with time zone,
    CONSTRAINT credential_offers_check CHECK (((made_by = 'agency'::text) = (issuer_org_id IS NOT NULL))),
    CONSTRAINT credential_offers_document_ids_check CHECK (((cardinality(document_ids) >= 1) AND (cardinality(document_ids) <= 20))),
    CONSTRAINT credential_offers_made_by_check CHECK ((made_by = ANY (ARRAY['citizen'::text, 'agency'::text])))
);


--
-- Name: credentials; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.credentials (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    document_id uuid NOT NULL,
    version integer NOT NULL,
    device_id uuid,
    kid text NOT NULL,
    status_list_id uuid NOT NULL,
    status_idx integer NOT NULL,
    status smallint DEFAULT 0 NOT NULL,
    sd_jwt text,
    issued_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone,
    holder_jkt text,
    format text DEFAULT 'dc+sd-jwt'::text NOT NULL,
    batch_id uuid,
    mdoc bytea,
    CONSTRAINT credentials_body CHECK ((((format = 'dc+sd-jwt'::text) AND (sd_jwt IS NOT NULL) AND (mdoc IS NULL)) OR ((format = 'mso_mdoc'::text) AND (mdoc IS NOT NULL) AND (sd_jwt IS NULL)))),
    CONSTRAINT credentials_bound CHECK (((device_id IS NOT NULL) OR (holder_jkt IS NOT NULL))),
    CONSTRAINT credentials_format_check CHECK ((format = ANY (ARRAY['dc+sd-jwt'::text, 'mso_mdoc'::text]))),
    CONSTRAINT credentials_status_check CHECK ((status = ANY (ARRAY[0, 1, 2])))
);


--
-- Name: devices; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.devices (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    account_id uuid NOT NULL,
    name text NOT NULL,
    public_jwk jsonb NOT NULL,
    push_platform text,
    push_token text,
    bound_at timestamp with time zone DEFAULT now() NOT NULL,
    last_seen_at timestamp with time zone,
    revoked_at timestamp with time zone,
    CONSTRAINT devices_push_platform_check CHECK ((push_platform = ANY (ARRAY['fcm'::text, 'apns'::text])))
);


--
-- Name: document_expiry_notices; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.document_expiry_notices (
    document_id uuid NOT NULL,
    expires_on date NOT NULL,
    sent_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: document_views; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.document_views (
    id bigint NOT NULL,
    document_id uuid NOT NULL,
    account_id uuid,
    verifier_org_id text,
    verifier text NOT NULL,
    channel text NOT NULL,
    fields text[] NOT NULL,
    outcome text NOT NULL,
    viewed_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT document_views_channel_check CHECK ((channel = ANY (ARRAY['online'::text, 'offline'::text, 'openid4vp'::text])))
);


--
-- Name: document_views_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.document_views ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.document_views_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: documents; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.documents (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    issuer_org_id text NOT NULL,
    doc_type text NOT NULL,
    agency_ref text NOT NULL,
    holder_id character(12) NOT NULL,
    version integer DEFAULT 1 NOT NULL,
    state text DEFAULT 'active'::text NOT NULL,
    claims jsonb NOT NULL,
    valid_from date NOT NULL,
    valid_until date,
    state_reason text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT documents_holder_id_check CHECK ((holder_id ~ '^[0-9]{12}$'::text)),
    CONSTRAINT documents_state_check CHECK ((state = ANY (ARRAY['active'::text, 'suspended'::text, 'revoked'::text])))
);


--
-- Name: enrolment_rows; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.enrolment_rows (
    enrolment_id uuid NOT NULL,
    line_no bigint NOT NULL,
    person_id text,
    amount text,
    agency_ref text,
    outcome text NOT NULL,
    reason text,
    CONSTRAINT enrolment_rows_outcome_check CHECK ((outcome = ANY (ARRAY['accepted'::text, 'rejected'::text])))
);


--
-- Name: enrolments; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.enrolments (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    programme_id uuid NOT NULL,
    source text NOT NULL,
    rule jsonb,
    created_by text NOT NULL,
    rows bigint DEFAULT 0 NOT NULL,
    accepted bigint DEFAULT 0 NOT NULL,
    rejected bigint DEFAULT 0 NOT NULL,
    without_wallet bigint DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT enrolments_source_check CHECK ((source = ANY (ARRAY['upload'::text, 'rule'::text])))
);


--
-- Name: guardianship_current; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.guardianship_current AS
 SELECT child_account_id,
    guardian_account_id,
    since,
    until
   FROM public.account_guardians
  WHERE ((since <= now()) AND ((until IS NULL) OR (until > CURRENT_DATE)));


--
-- Name: idempotency_keys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.idempotency_keys (
    principal text NOT NULL,
    key text NOT NULL,
    fingerprint text NOT NULL,
    method text NOT NULL,
    path text NOT NULL,
    state text NOT NULL,
    locked_until timestamp with time zone,
    status integer,
    headers jsonb,
    body bytea,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT idempotency_keys_state_check CHECK ((state = ANY (ARRAY['in_progress'::text, 'done'::text, 'rerun'::text])))
);


--
-- Name: ledger_accounts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ledger_accounts (
    id bigint NOT NULL,
    programme_id uuid NOT NULL,
    kind text NOT NULL,
    provider text DEFAULT ''::text NOT NULL,
    CONSTRAINT ledger_accounts_check CHECK (((kind = 'in_flight'::text) = (provider <> ''::text))),
    CONSTRAINT ledger_accounts_kind_check CHECK ((kind = ANY (ARRAY['appropriation'::text, 'budget'::text, 'reserved'::text, 'in_flight'::text, 'paid'::text, 'returned'::text])))
);


--
-- Name: ledger_accounts_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.ledger_accounts ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.ledger_accounts_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: ledger_entries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ledger_entries (
    id bigint NOT NULL,
    transaction_id bigint NOT NULL,
    account_id bigint NOT NULL,
    amount bigint NOT NULL,
    CONSTRAINT ledger_entries_amount_check CHECK ((amount <> 0))
);


--
-- Name: ledger_entries_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.ledger_entries ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.ledger_entries_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: ledger_transactions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ledger_transactions (
    id bigint NOT NULL,
    programme_id uuid NOT NULL,
    kind text NOT NULL,
    payment_id uuid,
    batch_id uuid,
    at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT ledger_transactions_check CHECK ((num_nonnulls(payment_id, batch_id) <= 1)),
    CONSTRAINT ledger_transactions_kind_check CHECK ((kind = ANY (ARRAY['appropriate'::text, 'reserve'::text, 'send'::text, 'settle'::text, 'fail'::text, 'expire'::text, 'reverse'::text, 'cancel'::text])))
);


--
-- Name: ledger_transactions_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.ledger_transactions ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.ledger_transactions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: mdoc_certificates; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.mdoc_certificates (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    role text NOT NULL,
    org_id text NOT NULL,
    kid text NOT NULL,
    issuer_kid text NOT NULL,
    not_before timestamp with time zone NOT NULL,
    not_after timestamp with time zone NOT NULL,
    der bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    final_crl bytea,
    revoked_at timestamp with time zone,
    CONSTRAINT mdoc_certificates_check CHECK ((not_before < not_after)),
    CONSTRAINT mdoc_certificates_role_check CHECK ((role = ANY (ARRAY['iaca'::text, 'document_signer'::text])))
);


--
-- Name: mobile_subscribers; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.mobile_subscribers (
    phone text NOT NULL,
    person_id character(12) NOT NULL,
    registered_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT mobile_subscribers_person_id_check CHECK ((person_id ~ '^[0-9]{12}$'::text)),
    CONSTRAINT mobile_subscribers_phone_check CHECK ((phone ~ '^\+84[0-9]{9}$'::text))
);


--
-- Name: notification_addresses; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.notification_addresses (
    account_id uuid NOT NULL,
    channel text NOT NULL,
    address text,
    confirmed_at timestamp with time zone,
    pending_address text,
    code_digest text,
    code_expires_at timestamp with time zone,
    code_tries integer DEFAULT 0 NOT NULL,
    codes_sent integer DEFAULT 0 NOT NULL,
    codes_since timestamp with time zone DEFAULT now() NOT NULL,
    last_code_at timestamp with time zone,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT notification_addresses_check CHECK (((address IS NULL) = (confirmed_at IS NULL)))
);


--
-- Name: notification_counters; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.notification_counters (
    account_id uuid NOT NULL,
    last_seq bigint NOT NULL,
    CONSTRAINT notification_counters_last_seq_check CHECK ((last_seq >= 0))
);


--
-- Name: notification_deliveries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.notification_deliveries (
    id bigint NOT NULL,
    notification_id bigint NOT NULL,
    account_id uuid NOT NULL,
    channel text NOT NULL,
    device_id uuid,
    state text DEFAULT 'pending'::text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    available_at timestamp with time zone DEFAULT now() NOT NULL,
    lease_owner text,
    last_error text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    finished_at timestamp with time zone,
    CONSTRAINT notification_deliveries_state_check CHECK ((state = ANY (ARRAY['pending'::text, 'sent'::text, 'dead'::text, 'skipped'::text])))
);


--
-- Name: notification_deliveries_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.notification_deliveries ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.notification_deliveries_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: notification_preferences; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.notification_preferences (
    account_id uuid NOT NULL,
    category text NOT NULL,
    channel text NOT NULL,
    enabled boolean NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: notifications; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.notifications (
    id bigint NOT NULL,
    account_id uuid NOT NULL,
    kind text NOT NULL,
    category text NOT NULL,
    params jsonb DEFAULT '{}'::jsonb NOT NULL,
    ref_type text,
    ref_id text,
    dedupe_key text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    read_at timestamp with time zone,
    seq bigint NOT NULL,
    about_account_id uuid
);


--
-- Name: notifications_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.notifications ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.notifications_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: oauth_clients; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.oauth_clients (
    client_id text NOT NULL,
    org_id text NOT NULL,
    scopes text[] DEFAULT '{}'::text[] NOT NULL,
    public_jwks jsonb,
    secret_hash text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    disabled_at timestamp with time zone,
    name text,
    rotated_at timestamp with time zone,
    CONSTRAINT oauth_clients_check CHECK (((public_jwks IS NOT NULL) OR (secret_hash IS NOT NULL)))
);


--
-- Name: officers; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.officers (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    org_id text NOT NULL,
    username text NOT NULL,
    display_name text NOT NULL,
    roles text[] DEFAULT '{}'::text[] NOT NULL,
    password_hash text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    disabled_at timestamp with time zone,
    password_changed_at timestamp with time zone
);


--
-- Name: openid4vp_certificates; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.openid4vp_certificates (
    kid text NOT NULL,
    host text NOT NULL,
    issuer_kid text,
    der bytea NOT NULL,
    not_after timestamp with time zone NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: organisations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.organisations (
    id text NOT NULL,
    kind text NOT NULL,
    name text NOT NULL,
    document_types text[] DEFAULT '{}'::text[] NOT NULL,
    provinces text[] DEFAULT '{}'::text[] NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    disabled_at timestamp with time zone,
    CONSTRAINT organisations_kind_check CHECK ((kind = ANY (ARRAY['issuer'::text, 'welfare'::text, 'verifier'::text, 'provider'::text, 'police'::text, 'admin'::text])))
);


--
-- Name: outbox; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.outbox (
    id bigint NOT NULL,
    topic text NOT NULL,
    consumer text NOT NULL,
    key text,
    payload jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    available_at timestamp with time zone DEFAULT now() NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    lease_owner text,
    last_error text,
    state text DEFAULT 'pending'::text NOT NULL,
    finished_at timestamp with time zone,
    CONSTRAINT outbox_state_check CHECK ((state = ANY (ARRAY['pending'::text, 'done'::text, 'dead'::text])))
);


--
-- Name: outbox_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.outbox ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.outbox_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: payment_state_edges; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.payment_state_edges (
    from_state text NOT NULL,
    to_state text NOT NULL
);


--
-- Name: TABLE payment_state_edges; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.payment_state_edges IS 'reference: allowed payment state transitions';


--
-- Name: payment_transitions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.payment_transitions (
    id bigint NOT NULL,
    payment_id uuid NOT NULL,
    from_state text,
    to_state text NOT NULL,
    reason text,
    actor text NOT NULL,
    at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: payment_transitions_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.payment_transitions ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.payment_transitions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: payments; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.payments (
    id uuid NOT NULL,
    batch_id uuid NOT NULL,
    programme_id uuid NOT NULL,
    cycle text NOT NULL,
    beneficiary_id uuid NOT NULL,
    person_id character(12) NOT NULL,
    amount bigint NOT NULL,
    state text DEFAULT 'created'::text NOT NULL,
    hold_reason text,
    hold_until timestamp with time zone,
    account_id uuid,
    link_id uuid,
    provider text,
    wallet_account text,
    provider_ref text,
    failure_reason text,
    send_attempts integer DEFAULT 0 NOT NULL,
    status_checks integer DEFAULT 0 NOT NULL,
    lease_owner text,
    lease_until timestamp with time zone,
    next_check_at timestamp with time zone,
    first_sent_at timestamp with time zone,
    settled_at timestamp with time zone,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    last_sent_at timestamp with time zone,
    answered_at timestamp with time zone,
    CONSTRAINT payments_amount_check CHECK ((amount > 0)),
    CONSTRAINT payments_check CHECK ((((state = 'held'::text) <= (hold_reason IS NOT NULL)) AND ((state = ANY (ARRAY['held'::text, 'returned'::text])) OR (hold_reason IS NULL)))),
    CONSTRAINT payments_check1 CHECK (((state <> ALL (ARRAY['approved'::text, 'sending'::text])) OR ((provider IS NOT NULL) AND (wallet_account IS NOT NULL)))),
    CONSTRAINT payments_hold_reason_check CHECK ((hold_reason = ANY (ARRAY['no_wallet'::text, 'wallet_cooling_off'::text, 'deceased'::text, 'name_mismatch'::text, 'level_required'::text]))),
    CONSTRAINT payments_state_check CHECK ((state = ANY (ARRAY['created'::text, 'held'::text, 'approved'::text, 'sending'::text, 'succeeded'::text, 'failed'::text, 'unknown'::text, 'reconciled'::text, 'reversed'::text, 'manual_review'::text, 'returned'::text, 'cancelled'::text])))
);


--
-- Name: programmes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.programmes (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    org_id text NOT NULL,
    name text NOT NULL,
    legal_basis text NOT NULL,
    budget bigint NOT NULL,
    amount_mode text NOT NULL,
    fixed_amount bigint,
    provinces text[] DEFAULT '{}'::text[] NOT NULL,
    schedule text NOT NULL,
    hold_days integer DEFAULT 30 NOT NULL,
    created_by text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT programmes_amount_mode_check CHECK ((amount_mode = ANY (ARRAY['fixed'::text, 'per_row'::text]))),
    CONSTRAINT programmes_budget_check CHECK ((budget > 0)),
    CONSTRAINT programmes_check CHECK (((amount_mode = 'fixed'::text) = (fixed_amount IS NOT NULL))),
    CONSTRAINT programmes_fixed_amount_check CHECK ((fixed_amount > 0)),
    CONSTRAINT programmes_hold_days_check CHECK (((hold_days >= 1) AND (hold_days <= 365))),
    CONSTRAINT programmes_legal_basis_check CHECK (((length(legal_basis) >= 1) AND (length(legal_basis) <= 500))),
    CONSTRAINT programmes_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200))),
    CONSTRAINT programmes_schedule_check CHECK ((schedule = ANY (ARRAY['one_off'::text, 'monthly'::text])))
);


--
-- Name: provider_events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.provider_events (
    provider text NOT NULL,
    event_id text NOT NULL,
    payment_id uuid,
    received_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: push_devices; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.push_devices AS
 SELECT id AS device_id,
    account_id,
    push_platform,
    push_token
   FROM public.devices
  WHERE ((revoked_at IS NULL) AND (push_token IS NOT NULL) AND (push_platform IS NOT NULL));


--
-- Name: reconciliation_lines; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.reconciliation_lines (
    reconciliation_id uuid NOT NULL,
    line_no bigint NOT NULL,
    payment_id text,
    programme_id uuid,
    batch_id uuid,
    provider_ref text,
    kind text,
    statement_amount bigint,
    our_amount bigint,
    outcome text NOT NULL,
    CONSTRAINT reconciliation_lines_outcome_check CHECK ((outcome = ANY (ARRAY['matched'::text, 'missing_at_provider'::text, 'unknown_to_us'::text, 'duplicate'::text, 'amount_mismatch'::text, 'reversal'::text, 'paid_but_failed_here'::text])))
);


--
-- Name: reconciliations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.reconciliations (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    provider text NOT NULL,
    day date NOT NULL,
    created_by text NOT NULL,
    lines bigint DEFAULT 0 NOT NULL,
    counts jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    complete boolean DEFAULT true NOT NULL,
    superseded_at timestamp with time zone,
    superseded_by uuid
);


--
-- Name: refresh_families; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.refresh_families (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    account_id uuid NOT NULL,
    device_id uuid NOT NULL,
    auth_time timestamp with time zone NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone,
    revoked_why text
);


--
-- Name: refresh_tokens; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.refresh_tokens (
    token_hash bytea NOT NULL,
    family_id uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    used_at timestamp with time zone
);


--
-- Name: schema_migrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_migrations (
    version integer NOT NULL,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: signing_keys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.signing_keys (
    kid text NOT NULL,
    purpose text NOT NULL,
    owner text,
    algorithm text DEFAULT 'ES256'::text NOT NULL,
    public_jwk jsonb NOT NULL,
    private_key_enc bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    active boolean DEFAULT true NOT NULL,
    retired_at timestamp with time zone,
    publish_until timestamp with time zone
);


--
-- Name: status_lists; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.status_lists (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    issuer_org_id text NOT NULL,
    bits smallint DEFAULT 2 NOT NULL,
    size integer NOT NULL,
    allocated integer DEFAULT 0 NOT NULL,
    version bigint DEFAULT 1 NOT NULL,
    token text,
    token_version bigint,
    token_expires_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT status_lists_bits_check CHECK ((bits = ANY (ARRAY[1, 2, 4, 8]))),
    CONSTRAINT status_lists_size_check CHECK ((size > 0))
);


--
-- Name: vci_authorizations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.vci_authorizations (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    request_uri_hash bytea NOT NULL,
    client_id text NOT NULL,
    attested_by text,
    wallet_name text,
    redirect_uri text NOT NULL,
    state text,
    code_challenge text NOT NULL,
    dpop_jkt text,
    issuer_state text,
    requested jsonb NOT NULL,
    pushed_at timestamp with time zone DEFAULT now() NOT NULL,
    request_expires_at timestamp with time zone NOT NULL,
    opened_at timestamp with time zone,
    handle_hash bytea,
    browser_hash bytea,
    approval_expires_at timestamp with time zone,
    account_id uuid,
    decision text,
    decided_at timestamp with time zone,
    document_ids uuid[],
    code_hash bytea,
    code_expires_at timestamp with time zone,
    redeemed_at timestamp with time zone,
    CONSTRAINT vci_authorizations_check CHECK (((decision = 'approved'::text) = (document_ids IS NOT NULL))),
    CONSTRAINT vci_authorizations_check1 CHECK (((code_hash IS NULL) OR (decision = 'approved'::text))),
    CONSTRAINT vci_authorizations_decision_check CHECK ((decision = ANY (ARRAY['approved'::text, 'denied'::text])))
);


--
-- Name: wallet_links; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.wallet_links (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    account_id uuid NOT NULL,
    provider text NOT NULL,
    wallet_account text NOT NULL,
    state text DEFAULT 'requested'::text NOT NULL,
    refusal_reason text,
    is_default boolean DEFAULT false NOT NULL,
    payout_hold_until timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    activated_at timestamp with time zone,
    unlinked_at timestamp with time zone,
    make_default boolean DEFAULT true NOT NULL,
    otp_attempts smallint DEFAULT 0 NOT NULL,
    otp_requested_at timestamp with time zone,
    review_reason text,
    CONSTRAINT wallet_links_state_check CHECK ((state = ANY (ARRAY['requested'::text, 'inquiring'::text, 'awaiting_otp'::text, 'confirming'::text, 'active'::text, 'refused'::text, 'failed'::text, 'unlinked'::text, 'under_review'::text])))
);


--
-- Name: account_guardians account_guardians_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.account_guardians
    ADD CONSTRAINT account_guardians_pkey PRIMARY KEY (child_account_id, guardian_account_id);


--
-- Name: accounts accounts_person_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.accounts
    ADD CONSTRAINT accounts_person_id_key UNIQUE (person_id);


--
-- Name: accounts accounts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.accounts
    ADD CONSTRAINT accounts_pkey PRIMARY KEY (id);


--
-- Name: audit_head audit_head_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_head
    ADD CONSTRAINT audit_head_pkey PRIMARY KEY (singleton);


--
-- Name: audit_log audit_log_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_hash_key UNIQUE (hash);


--
-- Name: audit_log audit_log_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (seq);


--
-- Name: batches batches_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.batches
    ADD CONSTRAINT batches_pkey PRIMARY KEY (id);


--
-- Name: beneficiaries beneficiaries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.beneficiaries
    ADD CONSTRAINT beneficiaries_pkey PRIMARY KEY (id);


--
-- Name: beneficiaries beneficiaries_programme_id_person_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.beneficiaries
    ADD CONSTRAINT beneficiaries_programme_id_person_id_key UNIQUE (programme_id, person_id);


--
-- Name: credential_offers credential_offers_code_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.credential_offers
    ADD CONSTRAINT credential_offers_code_hash_key UNIQUE (code_hash);


--
-- Name: credential_offers credential_offers_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.credential_offers
    ADD CONSTRAINT credential_offers_pkey PRIMARY KEY (id);


--
-- Name: credential_offers credential_offers_ref_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.credential_offers
    ADD CONSTRAINT credential_offers_ref_hash_key UNIQUE (ref_hash);


--
-- Name: credentials credentials_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.credentials
    ADD CONSTRAINT credentials_pkey PRIMARY KEY (id);


--
-- Name: credentials credentials_status_list_id_status_idx_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.credentials
    ADD CONSTRAINT credentials_status_list_id_status_idx_key UNIQUE (status_list_id, status_idx);


--
-- Name: devices devices_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.devices
    ADD CONSTRAINT devices_pkey PRIMARY KEY (id);


--
-- Name: document_expiry_notices document_expiry_notices_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.document_expiry_notices
    ADD CONSTRAINT document_expiry_notices_pkey PRIMARY KEY (document_id, expires_on);


--
-- Name: document_views document_views_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.document_views
    ADD CONSTRAINT document_views_pkey PRIMARY KEY (id);


--
-- Name: documents documents_issuer_org_id_doc_type_agency_ref_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.documents
    ADD CONSTRAINT documents_issuer_org_id_doc_type_agency_ref_key UNIQUE (issuer_org_id, doc_type, agency_ref);


--
-- Name: documents documents_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.documents
    ADD CONSTRAINT documents_pkey PRIMARY KEY (id);


--
-- Name: enrolment_rows enrolment_rows_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.enrolment_rows
    ADD CONSTRAINT enrolment_rows_pkey PRIMARY KEY (enrolment_id, line_no);


--
-- Name: enrolments enrolments_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.enrolments
    ADD CONSTRAINT enrolments_pkey PRIMARY KEY (id);


--
-- Name: idempotency_keys idempotency_keys_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.idempotency_keys
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (principal, key);


--
-- Name: ledger_accounts ledger_accounts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ledger_accounts
    ADD CONSTRAINT ledger_accounts_pkey PRIMARY KEY (id);


--
-- Name: ledger_accounts ledger_accounts_programme_id_kind_provider_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ledger_accounts
    ADD CONSTRAINT ledger_accounts_programme_id_kind_provider_key UNIQUE (programme_id, kind, provider);


--
-- Name: ledger_entries ledger_entries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ledger_entries
    ADD CONSTRAINT ledger_entries_pkey PRIMARY KEY (id);


--
-- Name: ledger_transactions ledger_once_per_batch; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ledger_transactions
    ADD CONSTRAINT ledger_once_per_batch UNIQUE (batch_id, kind);


--
-- Name: ledger_transactions ledger_once_per_payment; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ledger_transactions
    ADD CONSTRAINT ledger_once_per_payment UNIQUE (payment_id, kind);


--
-- Name: ledger_transactions ledger_transactions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ledger_transactions
    ADD CONSTRAINT ledger_transactions_pkey PRIMARY KEY (id);


--
-- Name: mdoc_certificates mdoc_certificates_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.mdoc_certificates
    ADD CONSTRAINT mdoc_certificates_pkey PRIMARY KEY (id);


--
-- Name: mobile_subscribers mobile_subscribers_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.mobile_subscribers
    ADD CONSTRAINT mobile_subscribers_pkey PRIMARY KEY (phone);


--
-- Name: notification_addresses notification_addresses_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_addresses
    ADD CONSTRAINT notification_addresses_pkey PRIMARY KEY (account_id, channel);


--
-- Name: notification_counters notification_counters_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_counters
    ADD CONSTRAINT notification_counters_pkey PRIMARY KEY (account_id);


--
-- Name: notification_deliveries notification_deliveries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_deliveries
    ADD CONSTRAINT notification_deliveries_pkey PRIMARY KEY (id);


--
-- Name: notification_preferences notification_preferences_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_preferences
    ADD CONSTRAINT notification_preferences_pkey PRIMARY KEY (account_id, category, channel);


--
-- Name: notifications notifications_account_id_dedupe_key_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_account_id_dedupe_key_key UNIQUE (account_id, dedupe_key);


--
-- Name: notifications notifications_account_seq; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_account_seq UNIQUE (account_id, seq);


--
-- Name: notifications notifications_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_pkey PRIMARY KEY (id);


--
-- Name: oauth_clients oauth_clients_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_clients
    ADD CONSTRAINT oauth_clients_pkey PRIMARY KEY (client_id);


--
-- Name: officers officers_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.officers
    ADD CONSTRAINT officers_pkey PRIMARY KEY (id);


--
-- Name: officers officers_username_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.officers
    ADD CONSTRAINT officers_username_key UNIQUE (username);


--
-- Name: openid4vp_certificates openid4vp_certificates_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.openid4vp_certificates
    ADD CONSTRAINT openid4vp_certificates_pkey PRIMARY KEY (kid, host);


--
-- Name: organisations organisations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.organisations
    ADD CONSTRAINT organisations_pkey PRIMARY KEY (id);


--
-- Name: outbox outbox_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outbox
    ADD CONSTRAINT outbox_pkey PRIMARY KEY (id);


--
-- Name: payment_state_edges payment_state_edges_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_state_edges
    ADD CONSTRAINT payment_state_edges_pkey PRIMARY KEY (from_state, to_state);


--
-- Name: payment_transitions payment_transitions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_transitions
    ADD CONSTRAINT payment_transitions_pkey PRIMARY KEY (id);


--
-- Name: payments payments_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payments
    ADD CONSTRAINT payments_pkey PRIMARY KEY (id);


--
-- Name: population population_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.population
    ADD CONSTRAINT population_pkey PRIMARY KEY (person_id);


--
-- Name: programmes programmes_org_id_name_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.programmes
    ADD CONSTRAINT programmes_org_id_name_key UNIQUE (org_id, name);


--
-- Name: programmes programmes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.programmes
    ADD CONSTRAINT programmes_pkey PRIMARY KEY (id);


--
-- Name: provider_events provider_events_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.provider_events
    ADD CONSTRAINT provider_events_pkey PRIMARY KEY (provider, event_id);


--
-- Name: reconciliation_lines reconciliation_lines_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.reconciliation_lines
    ADD CONSTRAINT reconciliation_lines_pkey PRIMARY KEY (reconciliation_id, line_no);


--
-- Name: reconciliations reconciliations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.reconciliations
    ADD CONSTRAINT reconciliations_pkey PRIMARY KEY (id);


--
-- Name: refresh_families refresh_families_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.refresh_families
    ADD CONSTRAINT refresh_families_pkey PRIMARY KEY (id);


--
-- Name: refresh_tokens refresh_tokens_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.refresh_tokens
    ADD CONSTRAINT refresh_tokens_pkey PRIMARY KEY (token_hash);


--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);


--
-- Name: signing_keys signing_keys_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.signing_keys
    ADD CONSTRAINT signing_keys_pkey PRIMARY KEY (kid);


--
-- Name: status_lists status_lists_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.status_lists
    ADD CONSTRAINT status_lists_pkey PRIMARY KEY (id);


--
-- Name: vci_authorizations vci_authorizations_browser_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.vci_authorizations
    ADD CONSTRAINT vci_authorizations_browser_hash_key UNIQUE (browser_hash);


--
-- Name: vci_authorizations vci_authorizations_code_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.vci_authorizations
    ADD CONSTRAINT vci_authorizations_code_hash_key UNIQUE (code_hash);


--
-- Name: vci_authorizations vci_authorizations_handle_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.vci_authorizations
    ADD CONSTRAINT vci_authorizations_handle_hash_key UNIQUE (handle_hash);


--
-- Name: vci_authorizations vci_authorizations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.vci_authorizations
    ADD CONSTRAINT vci_authorizations_pkey PRIMARY KEY (id);


--
-- Name: vci_authorizations vci_authorizations_request_uri_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.vci_authorizations
    ADD CONSTRAINT vci_authorizations_request_uri_hash_key UNIQUE (request_uri_hash);


--
-- Name: wallet_links wallet_links_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_links
    ADD CONSTRAINT wallet_links_pkey PRIMARY KEY (id);


--
-- Name: account_guardians_guardian; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX account_guardians_guardian ON public.account_guardians USING btree (guardian_account_id);


--
-- Name: audit_log_subject; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_log_subject ON public.audit_log USING btree (subject, seq);


--
-- Name: batches_one_per_cycle; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX batches_one_per_cycle ON public.batches USING btree (programme_id, cycle) WHERE (state <> 'cancelled'::text);


--
-- Name: beneficiaries_person; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX beneficiaries_person ON public.beneficiaries USING btree (person_id) WHERE (state = 'active'::text);


--
-- Name: credential_offers_account; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX credential_offers_account ON public.credential_offers USING btree (account_id, created_at DESC);


--
-- Name: credential_offers_expiry; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX credential_offers_expiry ON public.credential_offers USING btree (expires_at);


--
-- Name: credentials_batch; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX credentials_batch ON public.credentials USING btree (batch_id) WHERE (batch_id IS NOT NULL);


--
-- Name: credentials_current; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX credentials_current ON public.credentials USING btree (document_id, version, device_id) WHERE (status <> 1);


--
-- Name: credentials_document; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX credentials_document ON public.credentials USING btree (document_id);


--
-- Name: credentials_kid; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX credentials_kid ON public.credentials USING btree (kid);


--
-- Name: credentials_status; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX credentials_status ON public.credentials USING btree (status_list_id) WHERE (status <> 0);


--
-- Name: devices_account; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX devices_account ON public.devices USING btree (account_id) WHERE (revoked_at IS NULL);


--
-- Name: document_views_account; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX document_views_account ON public.document_views USING btree (account_id, viewed_at DESC);


--
-- Name: document_views_document; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX document_views_document ON public.document_views USING btree (document_id, viewed_at DESC);


--
-- Name: documents_expiry; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX documents_expiry ON public.documents USING btree (valid_until) WHERE ((state = 'active'::text) AND (valid_until IS NOT NULL));


--
-- Name: documents_holder; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX documents_holder ON public.documents USING btree (holder_id);


--
-- Name: enrolments_programme; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX enrolments_programme ON public.enrolments USING btree (programme_id, created_at);


--
-- Name: idempotency_keys_created; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idempotency_keys_created ON public.idempotency_keys USING btree (created_at);


--
-- Name: ledger_entries_account; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ledger_entries_account ON public.ledger_entries USING btree (account_id);


--
-- Name: ledger_entries_transaction; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ledger_entries_transaction ON public.ledger_entries USING btree (transaction_id);


--
-- Name: ledger_one_appropriation; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX ledger_one_appropriation ON public.ledger_transactions USING btree (programme_id) WHERE (kind = 'appropriate'::text);


--
-- Name: mdoc_certificates_by_org; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX mdoc_certificates_by_org ON public.mdoc_certificates USING btree (org_id, role, not_after);


--
-- Name: mdoc_certificates_one_root_per_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX mdoc_certificates_one_root_per_key ON public.mdoc_certificates USING btree (kid) WHERE (role = 'iaca'::text);


--
-- Name: mobile_subscribers_person; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX mobile_subscribers_person ON public.mobile_subscribers USING btree (person_id);


--
-- Name: notification_deliveries_claimable; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX notification_deliveries_claimable ON public.notification_deliveries USING btree (channel, available_at) WHERE (state = 'pending'::text);


--
-- Name: notification_deliveries_dead; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX notification_deliveries_dead ON public.notification_deliveries USING btree (channel, id) WHERE (state = 'dead'::text);


--
-- Name: notification_deliveries_notification; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX notification_deliveries_notification ON public.notification_deliveries USING btree (notification_id);


--
-- Name: notifications_created; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX notifications_created ON public.notifications USING btree (created_at);


--
-- Name: notifications_read; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX notifications_read ON public.notifications USING btree (read_at) WHERE (read_at IS NOT NULL);


--
-- Name: notifications_unread; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX notifications_unread ON public.notifications USING btree (account_id, seq) WHERE (read_at IS NULL);


--
-- Name: outbox_claimable; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX outbox_claimable ON public.outbox USING btree (consumer, available_at) WHERE (state = 'pending'::text);


--
-- Name: outbox_dead; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX outbox_dead ON public.outbox USING btree (consumer, id) WHERE (state = 'dead'::text);


--
-- Name: payment_transitions_payment; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payment_transitions_payment ON public.payment_transitions USING btree (payment_id, id);


--
-- Name: payments_account; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payments_account ON public.payments USING btree (account_id) WHERE (account_id IS NOT NULL);


--
-- Name: payments_approved; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payments_approved ON public.payments USING btree (provider, id) WHERE (state = 'approved'::text);


--
-- Name: payments_batch_state; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payments_batch_state ON public.payments USING btree (batch_id, state);


--
-- Name: payments_held; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payments_held ON public.payments USING btree (hold_until) WHERE (state = 'held'::text);


--
-- Name: payments_held_account; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payments_held_account ON public.payments USING btree (account_id) WHERE (state = 'held'::text);


--
-- Name: payments_in_flight; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payments_in_flight ON public.payments USING btree (lease_until) WHERE (state = 'sending'::text);


--
-- Name: payments_once_per_cycle; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX payments_once_per_cycle ON public.payments USING btree (programme_id, cycle, beneficiary_id) WHERE (state <> 'cancelled'::text);


--
-- Name: payments_pending_person; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payments_pending_person ON public.payments USING btree (person_id) WHERE (state = ANY (ARRAY['created'::text, 'held'::text, 'approved'::text]));


--
-- Name: payments_settled; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payments_settled ON public.payments USING btree (provider, settled_at) WHERE (state = 'succeeded'::text);


--
-- Name: payments_unknown; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payments_unknown ON public.payments USING btree (next_check_at) WHERE (state = 'unknown'::text);


--
-- Name: population_deceased; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX population_deceased ON public.population USING btree (person_id) WHERE (status = 'deceased'::text);


--
-- Name: population_father; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX population_father ON public.population USING btree (father_id) WHERE (father_id IS NOT NULL);


--
-- Name: population_mother; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX population_mother ON public.population USING btree (mother_id) WHERE (mother_id IS NOT NULL);


--
-- Name: population_parents; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX population_parents ON public.population USING btree (father_id, mother_id);


--
-- Name: population_province_dob; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX population_province_dob ON public.population USING btree (residence_province, date_of_birth);


--
-- Name: reconciliation_lines_batch; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX reconciliation_lines_batch ON public.reconciliation_lines USING btree (batch_id, outcome);


--
-- Name: reconciliation_lines_matched_payout; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX reconciliation_lines_matched_payout ON public.reconciliation_lines USING btree (payment_id) WHERE ((kind = 'payout'::text) AND (outcome = 'matched'::text));


--
-- Name: reconciliation_lines_programme; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX reconciliation_lines_programme ON public.reconciliation_lines USING btree (programme_id, outcome);


--
-- Name: reconciliations_current; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX reconciliations_current ON public.reconciliations USING btree (provider, day) WHERE (superseded_at IS NULL);


--
-- Name: refresh_families_account; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX refresh_families_account ON public.refresh_families USING btree (account_id) WHERE (revoked_at IS NULL);


--
-- Name: refresh_families_device; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX refresh_families_device ON public.refresh_families USING btree (device_id) WHERE (revoked_at IS NULL);


--
-- Name: refresh_families_device_revoked; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX refresh_families_device_revoked ON public.refresh_families USING btree (device_id, revoked_at) WHERE (revoked_at IS NOT NULL);


--
-- Name: refresh_tokens_family; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX refresh_tokens_family ON public.refresh_tokens USING btree (family_id);


--
-- Name: signing_keys_one_active; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX signing_keys_one_active ON public.signing_keys USING btree (purpose, COALESCE(owner, ''::text)) WHERE active;


--
-- Name: status_lists_open; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX status_lists_open ON public.status_lists USING btree (issuer_org_id, created_at) WHERE ((allocated * 2) < size);


--
-- Name: vci_authorizations_purge; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX vci_authorizations_purge ON public.vci_authorizations USING btree (pushed_at);


--
-- Name: wallet_links_account; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX wallet_links_account ON public.wallet_links USING btree (account_id);


--
-- Name: wallet_links_one_default; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX wallet_links_one_default ON public.wallet_links USING btree (account_id) WHERE (is_default AND (state = 'active'::text));


--
-- Name: wallet_links_one_live_per_citizen; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX wallet_links_one_live_per_citizen ON public.wallet_links USING btree (account_id, provider, wallet_account) WHERE (state = ANY (ARRAY['requested'::text, 'inquiring'::text, 'awaiting_otp'::text, 'confirming'::text, 'active'::text, 'under_review'::text]));


--
-- Name: wallet_links_wallet; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX wallet_links_wallet ON public.wallet_links USING btree (provider, wallet_account) WHERE (state = ANY (ARRAY['active'::text, 'under_review'::text]));


--
-- Name: wallet_links_wallet_owner; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX wallet_links_wallet_owner ON public.wallet_links USING btree (provider, wallet_account) WHERE (state = 'active'::text);


--
-- Name: audit_log audit_log_no_truncate; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON public.audit_log FOR EACH STATEMENT EXECUTE FUNCTION public.audit_log_append_only();


--
-- Name: audit_log audit_log_no_update; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER audit_log_no_update BEFORE DELETE OR UPDATE ON public.audit_log FOR EACH ROW EXECUTE FUNCTION public.audit_log_append_only();


--
-- Name: batches batches_kept; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER batches_kept BEFORE DELETE ON public.batches FOR EACH STATEMENT EXECUTE FUNCTION public.refuse_delete();


--
-- Name: beneficiaries beneficiaries_checked; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER beneficiaries_checked AFTER INSERT ON public.beneficiaries REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.beneficiaries_checked();


--
-- Name: beneficiaries beneficiaries_kept; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER beneficiaries_kept BEFORE DELETE ON public.beneficiaries FOR EACH STATEMENT EXECUTE FUNCTION public.refuse_delete();


--
-- Name: beneficiaries beneficiaries_programme_fixed; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER beneficiaries_programme_fixed BEFORE UPDATE OF programme_id ON public.beneficiaries FOR EACH ROW WHEN ((old.programme_id IS DISTINCT FROM new.programme_id)) EXECUTE FUNCTION public.beneficiaries_programme_fixed();


--
-- Name: ledger_accounts ledger_accounts_no_change; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER ledger_accounts_no_change BEFORE DELETE OR UPDATE ON public.ledger_accounts FOR EACH ROW EXECUTE FUNCTION public.ledger_append_only();


--
-- Name: ledger_entries ledger_entries_checked; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER ledger_entries_checked AFTER INSERT ON public.ledger_entries REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION public.ledger_entries_checked();


--
-- Name: ledger_entries ledger_entries_no_change; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER ledger_entries_no_change BEFORE DELETE OR UPDATE ON public.ledger_entries FOR EACH ROW EXECUTE FUNCTION public.ledger_append_only();


--
-- Name: ledger_transactions ledger_transactions_checked; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER ledger_transactions_checked AFTER INSERT ON public.ledger_transactions REFERENCING NEW TABLE AS new_transactions FOR EACH STATEMENT EXECUTE FUNCTION public.ledger_transactions_checked();


--
-- Name: ledger_transactions ledger_transactions_no_change; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER ledger_transactions_no_change BEFORE DELETE OR UPDATE ON public.ledger_transactions FOR EACH ROW EXECUTE FUNCTION public.ledger_append_only();


--
-- Name: outbox outbox_notify; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER outbox_notify AFTER INSERT ON public.outbox FOR EACH STATEMENT EXECUTE FUNCTION public.outbox_notify();


--
-- Name: payments payments_bookkeeping; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER payments_bookkeeping BEFORE UPDATE OF state ON public.payments FOR EACH ROW EXECUTE FUNCTION public.payments_bookkeeping();


--
-- Name: payments payments_owner_fixed; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER payments_owner_fixed BEFORE UPDATE OF batch_id, programme_id, beneficiary_id ON public.payments FOR EACH ROW WHEN (((old.batch_id IS DISTINCT FROM new.batch_id) OR (old.programme_id IS DISTINCT FROM new.programme_id) OR (old.beneficiary_id IS DISTINCT FROM new.beneficiary_id))) EXECUTE FUNCTION public.payments_owner_fixed();


--
-- Name: payments payments_record_inserts; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER payments_record_inserts AFTER INSERT ON public.payments REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.payments_record_inserts();


--
-- Name: payments payments_record_moves; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER payments_record_moves AFTER UPDATE ON public.payments REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.payments_record_moves();


--
-- Name: payments payments_references_checked; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER payments_references_checked AFTER INSERT ON public.payments REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.payments_references_checked();


--
-- Name: account_guardians account_guardians_child_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.account_guardians
    ADD CONSTRAINT account_guardians_child_account_id_fkey FOREIGN KEY (child_account_id) REFERENCES public.accounts(id);


--
-- Name: account_guardians account_guardians_guardian_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.account_guardians
    ADD CONSTRAINT account_guardians_guardian_account_id_fkey FOREIGN KEY (guardian_account_id) REFERENCES public.accounts(id);


--
-- Name: batches batches_programme_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.batches
    ADD CONSTRAINT batches_programme_id_fkey FOREIGN KEY (programme_id) REFERENCES public.programmes(id);


--
-- Name: credential_offers credential_offers_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.credential_offers
    ADD CONSTRAINT credential_offers_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id);


--
-- Name: credential_offers credential_offers_issuer_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.credential_offers
    ADD CONSTRAINT credential_offers_issuer_org_id_fkey FOREIGN KEY (issuer_org_id) REFERENCES public.organisations(id);


--
-- Name: credentials credentials_device_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.credentials
    ADD CONSTRAINT credentials_device_id_fkey FOREIGN KEY (device_id) REFERENCES public.devices(id);


--
-- Name: credentials credentials_document_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.credentials
    ADD CONSTRAINT credentials_document_id_fkey FOREIGN KEY (document_id) REFERENCES public.documents(id);


--
-- Name: credentials credentials_status_list_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.credentials
    ADD CONSTRAINT credentials_status_list_id_fkey FOREIGN KEY (status_list_id) REFERENCES public.status_lists(id);


--
-- Name: devices devices_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.devices
    ADD CONSTRAINT devices_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id);


--
-- Name: document_expiry_notices document_expiry_notices_document_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.document_expiry_notices
    ADD CONSTRAINT document_expiry_notices_document_id_fkey FOREIGN KEY (document_id) REFERENCES public.documents(id);


--
-- Name: document_views document_views_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.document_views
    ADD CONSTRAINT document_views_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id);


--
-- Name: document_views document_views_document_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.document_views
    ADD CONSTRAINT document_views_document_id_fkey FOREIGN KEY (document_id) REFERENCES public.documents(id);


--
-- Name: document_views document_views_verifier_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.document_views
    ADD CONSTRAINT document_views_verifier_org_id_fkey FOREIGN KEY (verifier_org_id) REFERENCES public.organisations(id);


--
-- Name: documents documents_issuer_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.documents
    ADD CONSTRAINT documents_issuer_org_id_fkey FOREIGN KEY (issuer_org_id) REFERENCES public.organisations(id);


--
-- Name: enrolments enrolments_programme_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.enrolments
    ADD CONSTRAINT enrolments_programme_id_fkey FOREIGN KEY (programme_id) REFERENCES public.programmes(id);


--
-- Name: ledger_accounts ledger_accounts_programme_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ledger_accounts
    ADD CONSTRAINT ledger_accounts_programme_id_fkey FOREIGN KEY (programme_id) REFERENCES public.programmes(id);


--
-- Name: mdoc_certificates mdoc_certificates_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.mdoc_certificates
    ADD CONSTRAINT mdoc_certificates_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.organisations(id);


--
-- Name: notification_addresses notification_addresses_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_addresses
    ADD CONSTRAINT notification_addresses_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id);


--
-- Name: notification_counters notification_counters_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_counters
    ADD CONSTRAINT notification_counters_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id);


--
-- Name: notification_deliveries notification_deliveries_device_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_deliveries
    ADD CONSTRAINT notification_deliveries_device_id_fkey FOREIGN KEY (device_id) REFERENCES public.devices(id);


--
-- Name: notification_deliveries notification_deliveries_notification_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_deliveries
    ADD CONSTRAINT notification_deliveries_notification_id_fkey FOREIGN KEY (notification_id) REFERENCES public.notifications(id) ON DELETE CASCADE;


--
-- Name: notification_preferences notification_preferences_account_id_fkey1; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_preferences
    ADD CONSTRAINT notification_preferences_account_id_fkey1 FOREIGN KEY (account_id) REFERENCES public.accounts(id);


--
-- Name: notifications notifications_about_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_about_account_id_fkey FOREIGN KEY (about_account_id) REFERENCES public.accounts(id);


--
-- Name: notifications notifications_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id);


--
-- Name: oauth_clients oauth_clients_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_clients
    ADD CONSTRAINT oauth_clients_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.organisations(id);


--
-- Name: officers officers_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.officers
    ADD CONSTRAINT officers_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.organisations(id);


--
-- Name: openid4vp_certificates openid4vp_certificates_issuer_kid_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.openid4vp_certificates
    ADD CONSTRAINT openid4vp_certificates_issuer_kid_fkey FOREIGN KEY (issuer_kid) REFERENCES public.signing_keys(kid);


--
-- Name: openid4vp_certificates openid4vp_certificates_kid_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.openid4vp_certificates
    ADD CONSTRAINT openid4vp_certificates_kid_fkey FOREIGN KEY (kid) REFERENCES public.signing_keys(kid);


--
-- Name: programmes programmes_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.programmes
    ADD CONSTRAINT programmes_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.organisations(id);


--
-- Name: reconciliation_lines reconciliation_lines_reconciliation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.reconciliation_lines
    ADD CONSTRAINT reconciliation_lines_reconciliation_id_fkey FOREIGN KEY (reconciliation_id) REFERENCES public.reconciliations(id) ON DELETE CASCADE;


--
-- Name: refresh_families refresh_families_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.refresh_families
    ADD CONSTRAINT refresh_families_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id);


--
-- Name: refresh_families refresh_families_device_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.refresh_families
    ADD CONSTRAINT refresh_families_device_id_fkey FOREIGN KEY (device_id) REFERENCES public.devices(id);


--
-- Name: refresh_tokens refresh_tokens_family_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.refresh_tokens
    ADD CONSTRAINT refresh_tokens_family_id_fkey FOREIGN KEY (family_id) REFERENCES public.refresh_families(id);


--
-- Name: status_lists status_lists_issuer_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.status_lists
    ADD CONSTRAINT status_lists_issuer_org_id_fkey FOREIGN KEY (issuer_org_id) REFERENCES public.organisations(id);


--
-- Name: vci_authorizations vci_authorizations_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.vci_authorizations
    ADD CONSTRAINT vci_authorizations_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id) ON DELETE CASCADE;


--
-- Name: wallet_links wallet_links_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_links
    ADD CONSTRAINT wallet_links_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id);


--
-- PostgreSQL database dump complete
--


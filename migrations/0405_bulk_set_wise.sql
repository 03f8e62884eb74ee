-- Enrolling a million people and creating their payments, each in one statement (issue #6
-- asks for 50,000 rows/s of upload validation): per-row costs that bought nothing, measured
-- at 1,000,000 rows in one PostgreSQL backend (CPU per row, docs/benchmarks.md):
--
-- * Every accepted row was written twice, as a report row and as a beneficiary. A
--   beneficiary now keeps the line of the file it came from (line_no), and enrolment_rows
--   holds only the rows with something to say: rejected, or accepted without a linked
--   wallet. The report download adds the accepted rows back from beneficiaries
--   (payments/disbursement/reports.py). Enrolments made before this keep all their rows in
--   enrolment_rows and no line_no on their beneficiaries, so their reports are unchanged.
-- * Foreign keys ran one query (and took one KEY SHARE lock on the same few parent rows) per
--   inserted row: one per beneficiary (its programme), three per payment (its batch,
--   programme and beneficiary). The same rules are checked once per statement on the
--   inserted rows, and the references cannot go stale: a programme cannot be deleted once
--   it exists (its ledger accounts, opened in the transaction that creates it, keep their
--   foreign key), beneficiaries and batches are stopped or cancelled, never deleted, and a
--   beneficiary or payment never changes what it belongs to (all enforced below).
-- * Random (version 4) ids scatter a million inserts over the whole primary-key index;
--   time-ordered (version 7 layout) ids append to its right edge. They are ids, not
--   secrets: nothing is authorised by knowing one.

CREATE FUNCTION time_ordered_uuid() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
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

ALTER TABLE beneficiaries ADD COLUMN line_no bigint;
ALTER TABLE beneficiaries ALTER COLUMN id SET DEFAULT time_ordered_uuid();
ALTER TABLE beneficiaries DROP CONSTRAINT beneficiaries_programme_id_fkey;

CREATE FUNCTION beneficiaries_checked() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER beneficiaries_checked AFTER INSERT ON beneficiaries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION beneficiaries_checked();

-- A beneficiary never moves to another programme (its payments and report name it there).
CREATE FUNCTION beneficiaries_programme_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a beneficiary cannot move to another programme' USING ERRCODE = 'check_violation';
END $$;
CREATE TRIGGER beneficiaries_programme_fixed BEFORE UPDATE OF programme_id ON beneficiaries
    FOR EACH ROW WHEN (OLD.programme_id IS DISTINCT FROM NEW.programme_id)
    EXECUTE FUNCTION beneficiaries_programme_fixed();

CREATE FUNCTION refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are never deleted (payments name them); stop or cancel instead', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER beneficiaries_kept BEFORE DELETE ON beneficiaries FOR EACH STATEMENT EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER batches_kept BEFORE DELETE ON batches FOR EACH STATEMENT EXECUTE FUNCTION refuse_delete();

-- Payments: the same, and time-ordered ids (the id is still created and committed with the
-- batch before anything is sent, and is still the provider's idempotency key).
ALTER TABLE payments DROP CONSTRAINT payments_batch_id_fkey;
ALTER TABLE payments DROP CONSTRAINT payments_programme_id_fkey;
ALTER TABLE payments DROP CONSTRAINT payments_beneficiary_id_fkey;

CREATE FUNCTION payments_references_checked() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER payments_references_checked AFTER INSERT ON payments
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION payments_references_checked();

CREATE FUNCTION payments_owner_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a payment cannot move to another batch, programme or beneficiary'
        USING ERRCODE = 'check_violation';
END $$;
CREATE TRIGGER payments_owner_fixed BEFORE UPDATE OF batch_id, programme_id, beneficiary_id ON payments
    FOR EACH ROW WHEN (OLD.batch_id IS DISTINCT FROM NEW.batch_id OR OLD.programme_id IS DISTINCT FROM NEW.programme_id
                       OR OLD.beneficiary_id IS DISTINCT FROM NEW.beneficiary_id)
    EXECUTE FUNCTION payments_owner_fixed();

-- A released batch's payments are resolved (each finds its wallet, or is held) a chunk per
-- transaction after the one-step reservation; resolved_at marks a batch whose payments are
-- all resolved, so that a worker can finish one whose release was cut short.
ALTER TABLE batches ADD COLUMN resolved_at timestamptz;
UPDATE batches SET resolved_at = released_at WHERE state = 'released';

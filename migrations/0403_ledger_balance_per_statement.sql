-- The ledger's rules, checked once per statement instead of once per row.
--
-- Paying one payment posts two ledger transactions of two entries each. In 0400 each
-- entry cost, besides its insert, a deferred constraint-trigger query at commit (the
-- balance) and two foreign-key checks, and each transaction one more: per-row queries
-- that also take KEY SHARE locks on the few hot parent rows (the programme's accounts and
-- the programme itself), which every concurrent posting shares. Together they were most
-- of the cost of a posting. The same rules now hold per statement, set-wise:
--
-- * Balance: every posting writes all the entries of its ledger transaction in one INSERT,
--   so the entries one statement adds to any ledger transaction must sum to zero. The ledger
--   is append-only and was balanced before, so every transaction stays balanced (by
--   induction); a posting whose legs are split over two statements is refused at the
--   first, which is stricter than the check at commit.
-- * References: an entry must name an existing ledger transaction and account, and a
--   ledger transaction an existing programme, checked against the inserted rows in one
--   query each. Ledger accounts become append-only like transactions and entries (and a
--   programme with accounts cannot be deleted: ledger_accounts keeps its foreign key), so
--   a reference valid when written stays valid.

DROP TRIGGER ledger_entries_balanced ON ledger_entries;
DROP FUNCTION ledger_transaction_balances();
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_transaction_id_fkey;
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_account_id_fkey;
ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_programme_id_fkey;

CREATE FUNCTION ledger_entries_checked() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER ledger_entries_checked AFTER INSERT ON ledger_entries
    REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_checked();

CREATE FUNCTION ledger_transactions_checked() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER ledger_transactions_checked AFTER INSERT ON ledger_transactions
    REFERENCING NEW TABLE AS new_transactions FOR EACH STATEMENT EXECUTE FUNCTION ledger_transactions_checked();

CREATE TRIGGER ledger_accounts_no_change BEFORE UPDATE OR DELETE ON ledger_accounts
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

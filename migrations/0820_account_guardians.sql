-- A child's account (under 14) is managed by its guardians, one row each: both parents the
-- population registry records may manage it, not only the first to link. Until now the
-- account named one guardian in a column, and the second parent had no way in.
CREATE TABLE account_guardians (
    child_account_id    uuid        NOT NULL REFERENCES accounts (id),
    guardian_account_id uuid        NOT NULL REFERENCES accounts (id),
    since               timestamptz NOT NULL DEFAULT now(),
    -- The child's 14th birthday (from then on the child manages the account); null: no end.
    until               date,
    PRIMARY KEY (child_account_id, guardian_account_id),
    CHECK (child_account_id <> guardian_account_id)
);
CREATE INDEX account_guardians_guardian ON account_guardians (guardian_account_id);

-- Every guardian the column named moves here, ended guardianships too (the history stays);
-- since: when the link was audited, else when the child's account was opened (by that link).
INSERT INTO account_guardians (child_account_id, guardian_account_id, since, until)
SELECT a.id, a.guardian_account_id,
       coalesce((SELECT min(l.at) FROM audit_log l
                 WHERE l.action = 'account.child_linked' AND l.subject = 'account:' || a.id::text),
                a.created_at),
       a.guardian_until
FROM accounts a
WHERE a.guardian_account_id IS NOT NULL;

ALTER TABLE accounts DROP COLUMN guardian_account_id, DROP COLUMN guardian_until;

-- The guardian rule, stated once: who manages a child's account today. Every reader uses
-- this view (wallet_api/accounts/guardianship.py: access checks and /v1/me/children; the
-- notifications consumer for guardians' copies), so a guardian's access ends at `until`
-- for all of them at once.
CREATE VIEW guardianship_current AS
SELECT child_account_id, guardian_account_id, since, until
FROM account_guardians
WHERE since <= now() AND (until IS NULL OR until > current_date);

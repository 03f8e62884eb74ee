-- Statements converge (review findings D2, D3).
--
-- D3: importing the same provider and day twice classified every line twice, and reports
-- summed both imports. Now the latest import of a provider's day supersedes the earlier
-- ones: they stay, for the record, but only the current import counts (reports, the
-- duplicate look-up across days), and there is one current import per provider and day.
--
-- D2: a statement of a day that is not over yet lacks payments the provider is still
-- settling; it flagged them missing and sent them to manual review. Such an import is now
-- partial (complete = false) and flags nothing missing. A later statement that matches a
-- payment under review takes it out of review: 'manual_review' → 'reconciled'.

ALTER TABLE reconciliations
    ADD COLUMN complete boolean NOT NULL DEFAULT true,
    ADD COLUMN superseded_at timestamptz,
    ADD COLUMN superseded_by uuid;

-- Imports made before this migration: the latest of each provider's day is the current one.
UPDATE reconciliations r SET superseded_at = now(), superseded_by = (
    SELECT n.id FROM reconciliations n WHERE n.provider = r.provider AND n.day = r.day
    ORDER BY n.created_at DESC, n.id DESC LIMIT 1
)
WHERE EXISTS (
    SELECT 1 FROM reconciliations n
    WHERE n.provider = r.provider AND n.day = r.day AND (n.created_at, n.id) > (r.created_at, r.id)
);

CREATE UNIQUE INDEX reconciliations_current ON reconciliations (provider, day) WHERE superseded_at IS NULL;

INSERT INTO payment_state_edges (from_state, to_state) VALUES ('manual_review', 'reconciled');

-- Settling payments set-wise: the payments named by id, joined to the provider's answers.
--
-- Planned inside the statement of a busy batch, with statistics from a moment when few
-- payments were in flight, the join of the answers (an unnest) to payments came out as a
-- nested loop: every in-flight payment walked through the (batch_id, state) index, or one
-- primary-key scan repeated per answer, so settling n payments cost O(n × in flight) or
-- O(n²) (seconds per thousand at reconciliation). These functions plan the same UPDATE
-- with nested loops disabled: the rows are found by primary key and joined to the answers
-- by hash, at any size. Same rules: only 'sending' or 'unknown' payments move, and the
-- transition triggers record every move.

CREATE FUNCTION payments_mark_succeeded(ids uuid[], refs text[])
RETURNS TABLE (id uuid, account_id uuid, amount bigint, programme_name text)
LANGUAGE sql SET enable_nestloop = off AS $$
    UPDATE payments p
    SET state = 'succeeded', provider_ref = coalesce(r.ref, p.provider_ref), settled_at = now(),
        lease_owner = NULL, lease_until = NULL, next_check_at = NULL
    FROM unnest(ids, refs) AS r(id, ref)
    WHERE p.id = ANY (ids) AND p.id = r.id AND p.state IN ('sending', 'unknown')
    RETURNING p.id, p.account_id, p.amount, (SELECT name FROM programmes WHERE programmes.id = p.programme_id)
$$;

CREATE FUNCTION payments_mark_failed(ids uuid[], reasons text[])
RETURNS TABLE (id uuid)
LANGUAGE sql SET enable_nestloop = off AS $$
    UPDATE payments p
    SET state = 'failed', failure_reason = r.reason, lease_owner = NULL, lease_until = NULL, next_check_at = NULL
    FROM unnest(ids, reasons) AS r(id, reason)
    WHERE p.id = ANY (ids) AND p.id = r.id AND p.state IN ('sending', 'unknown')
    RETURNING p.id
$$;

-- Payment moves are checked and recorded once per statement (transition tables) instead
-- of once per row: a batch of a million payments is created and released by a handful of
-- set-wise statements, and a per-row trigger that inserts a row each time was most of
-- their cost. Same rules: a move not in payment_state_edges aborts the whole statement,
-- and every move is recorded with its actor and reason.

DROP TRIGGER payments_transition_insert ON payments;
DROP TRIGGER payments_transition_update ON payments;
DROP FUNCTION payments_record_transition();

-- Cheap per-row bookkeeping (no I/O): attempt counter, first send time, last change.
CREATE FUNCTION payments_bookkeeping() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state IS DISTINCT FROM OLD.state THEN
        IF NEW.state = 'sending' THEN
            NEW.send_attempts := OLD.send_attempts + 1;
            NEW.first_sent_at := coalesce(OLD.first_sent_at, now());
        END IF;
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER payments_bookkeeping BEFORE UPDATE OF state ON payments
    FOR EACH ROW EXECUTE FUNCTION payments_bookkeeping();

CREATE FUNCTION payments_record_inserts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO payment_transitions (payment_id, from_state, to_state, reason, actor)
    SELECT n.id, NULL, n.state, n.hold_reason, coalesce(nullif(current_setting('wallet.actor', true), ''), 'system')
    FROM new_rows n;
    RETURN NULL;
END $$;
CREATE TRIGGER payments_record_inserts AFTER INSERT ON payments
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION payments_record_inserts();

-- Transition tables carry no statistics: without the setting the planner may pair old and
-- new rows by a nested loop, quadratic in the statement's size.
CREATE FUNCTION payments_record_moves() RETURNS trigger LANGUAGE plpgsql SET enable_nestloop = off AS $$
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
CREATE TRIGGER payments_record_moves AFTER UPDATE ON payments
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION payments_record_moves();

-- The citizen's list is short; ordering it needs no index on a column every move rewrites.
DROP INDEX payments_account;
CREATE INDEX payments_account ON payments (account_id) WHERE account_id IS NOT NULL;

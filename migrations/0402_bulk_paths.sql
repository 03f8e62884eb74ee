-- A statement line is a duplicate if an earlier day's statement already matched the same
-- payment: that lookup must be an index probe, not a scan of every line ever reconciled.
CREATE INDEX reconciliation_lines_matched_payout ON reconciliation_lines (payment_id)
    WHERE kind = 'payout' AND outcome = 'matched';

-- Enrolment rows and beneficiaries name the enrolment they came from; that enrolment is
-- created in the same transaction by the same code, so a per-row foreign-key check (a
-- third of the cost of enrolling a million rows) buys nothing. Programme keys stay checked.
ALTER TABLE enrolment_rows DROP CONSTRAINT enrolment_rows_enrolment_id_fkey;
ALTER TABLE beneficiaries DROP CONSTRAINT beneficiaries_enrolment_id_fkey;

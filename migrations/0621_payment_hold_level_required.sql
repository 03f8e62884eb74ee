-- A payment to a beneficiary whose account is below identification level 2 is held with the
-- reason 'level_required' (docs/payments.md): it is released like a 'no_wallet' hold once
-- the account reaches level 2 and links an e-wallet, or returned when the window ends.
-- NOT VALID then VALIDATE: the scan of existing payments runs without blocking writes.
ALTER TABLE payments DROP CONSTRAINT payments_hold_reason_check;
ALTER TABLE payments ADD CONSTRAINT payments_hold_reason_check
    CHECK (hold_reason IN ('no_wallet', 'wallet_cooling_off', 'deceased', 'name_mismatch', 'level_required')) NOT VALID;
ALTER TABLE payments VALIDATE CONSTRAINT payments_hold_reason_check;

-- The not-found grace counts from the latest send (review, throughput under faults).
--
-- A status query that answers "not found" lets us resend a payment (same id) once its
-- grace has passed, so that a request still being worked on at the provider is not raced.
-- The grace counted from the first send: after one resend it had always passed, and a
-- second lost request was raced at once. It now counts from the latest send
-- (last_sent_at), and not at all once the provider has answered that send, even with an
-- error (answered_at): an answered request is no longer in progress anywhere.

ALTER TABLE payments
    ADD COLUMN last_sent_at timestamptz,
    ADD COLUMN answered_at timestamptz;

CREATE OR REPLACE FUNCTION payments_bookkeeping() RETURNS trigger LANGUAGE plpgsql AS $$
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

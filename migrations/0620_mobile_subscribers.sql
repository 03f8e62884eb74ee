-- The carriers' subscriber database (SIM "chính chủ": every mobile number is registered to
-- one personal ID number) is external; in development and tests this table is its local
-- implementation (wallet_api.accounts.subscribers.LocalSubscriberRegistry reads it), filled
-- by `wallet seed` next to the population.
CREATE TABLE mobile_subscribers (
    phone          text        PRIMARY KEY CHECK (phone ~ '^\+84[0-9]{9}$'),
    person_id      char(12)    NOT NULL CHECK (person_id ~ '^[0-9]{12}$'),
    registered_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mobile_subscribers_person ON mobile_subscribers (person_id);

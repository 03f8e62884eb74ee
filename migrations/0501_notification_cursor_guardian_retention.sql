-- Notifications: a commit-ordered cursor per account, notices forwarded to a guardian, and
-- what the retention job needs.

-- One counter per account. Whoever adds inbox entries for an account takes the next numbers
-- from its row (an UPDATE, so a row lock held until commit): a second transaction adding
-- entries for the same account waits until the first commits, so per account the order
-- of `seq` is the order in which entries become visible. Apps resume from the last `seq`
-- they saw (SSE Last-Event-ID, WebSocket `since`, inbox pages) and can never skip an
-- entry that committed later with a smaller number. Ids (a global sequence) do not have
-- that property: two transactions may commit in the reverse order of their ids.
CREATE TABLE notification_counters (
    account_id  uuid    PRIMARY KEY REFERENCES accounts (id),
    last_seq    bigint  NOT NULL CHECK (last_seq >= 0)
);

ALTER TABLE notifications ADD COLUMN seq bigint;
UPDATE notifications n SET seq = r.seq
FROM (SELECT id, row_number() OVER (PARTITION BY account_id ORDER BY id) AS seq FROM notifications) r
WHERE n.id = r.id;
INSERT INTO notification_counters (account_id, last_seq)
SELECT account_id, max(seq) FROM notifications GROUP BY account_id;
ALTER TABLE notifications ALTER COLUMN seq SET NOT NULL;
ALTER TABLE notifications ADD CONSTRAINT notifications_account_seq UNIQUE (account_id, seq);

-- Pages and catch-up go by (account_id, seq) now.
DROP INDEX notifications_account_id;
DROP INDEX notifications_unread;
CREATE INDEX notifications_unread ON notifications (account_id, seq) WHERE read_at IS NULL;

-- A notice about a child's account (under 14, managed by a guardian) is copied to the
-- guardian's inbox; this names the child's account. Null: about the inbox owner's own account.
ALTER TABLE notifications ADD COLUMN about_account_id uuid REFERENCES accounts (id);

-- Retention: read entries are removed after a while (notifications_created serves the
-- hard maximum age).
CREATE INDEX notifications_read ON notifications (read_at) WHERE read_at IS NOT NULL;

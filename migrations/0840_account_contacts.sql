-- What other domains read about an account's holder, owned by accounts (docs/accounts.md,
-- "What other domains read"): how to reach them (state, language, phone), who they are
-- (person, level, the registry's name). Notifications address and word messages from it and
-- e-wallet linking reads the holder's name from it; neither joins accounts and population
-- itself. The planner inlines the view and drops the population join where no name is read.
CREATE VIEW account_contacts AS
SELECT a.id AS account_id, a.person_id, a.state, a.level, a.language, a.phone, p.full_name
FROM accounts a
LEFT JOIN population p ON p.person_id = a.person_id;

-- The devices of an account that push notifications reach: not revoked, with a push token.
CREATE VIEW push_devices AS
SELECT id AS device_id, account_id, push_platform, push_token
FROM devices
WHERE revoked_at IS NULL AND push_token IS NOT NULL AND push_platform IS NOT NULL;

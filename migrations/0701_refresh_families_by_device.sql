-- Realtime streams check that their session still lives (issue 14, item 2): "was any family
-- of this device revoked after the token was issued?" needs revoked families by device too
-- (refresh_families_device covers only the live ones).
CREATE INDEX refresh_families_device_revoked ON refresh_families (device_id, revoked_at) WHERE revoked_at IS NOT NULL;

-- Idempotency keys never keep secrets or personal data (issue 14, item 1).
--
-- Routes whose answers carry tokens, one-time codes or personal data keep only the request's
-- fingerprint under a new state, 'rerun': a retry with the same key runs the route again.
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_state_check;
ALTER TABLE idempotency_keys ADD CONSTRAINT idempotency_keys_state_check
    CHECK (state IN ('in_progress', 'done', 'rerun'));

-- Answers stored before this migration by those routes, and every anonymous answer (scoped by
-- client address then, by the request now, so none of them can be met again), are removed.
DELETE FROM idempotency_keys
WHERE principal LIKE 'anonymous:%'
   OR path IN ('/v1/auth/challenges', '/v1/auth/sign-in', '/v1/auth/refresh', '/v1/auth/step-up',
               '/v1/registrations', '/v1/device-bindings', '/v1/devices/pairings', '/oauth2/token',
               '/v1/officers/sign-in', '/v1/verifications', '/v1/me/phone', '/v1/me/children',
               '/v1/me/wallet-links')
   OR path ~ '^/v1/(registrations|device-bindings|devices/pairings)/[^/]+/complete$'
   OR path ~ '^/v1/me/phone/[^/]+/confirm$'
   OR path ~ '^/v1/me/documents/[^/]+/(presentations|offline-presentations)$'
   OR path ~ '^/v1/me/wallet-links/[^/]+/(default|otp)$';

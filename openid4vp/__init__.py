"""The verifier service: OpenID for Verifiable Presentations 1.0 with DCQL for registered third-party verifiers.

A verifier's backend asks for claims (``POST /v1/presentation-requests``, openid4vp/api.py);
the holder's wallet fetches the signed request object and posts its response
(openid4vp/wallet.py); the response is judged (openid4vp/responses.py) and logged for the
holder as every verification is. docs/openid4vp.md tells the whole story.
"""

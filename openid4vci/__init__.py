"""OpenID for Verifiable Credential Issuance 1.0: the credential issuer and its authorization server."""

-- A Document Signer certificate revoked by an operator (`wallet documents revoke-mdoc-signer`,
-- documents/mdoc/): listed in its root's CRL from then on and refused by our verifier.
ALTER TABLE mdoc_certificates ADD COLUMN revoked_at timestamptz;

-- The last certificate revocation list of a replaced IACA root (documents/mdoc/): signed with
-- its key when the root is replaced, valid until the root expires, served at the root's CRL
-- distribution point. The current root's CRL is signed when asked for and not kept.
ALTER TABLE mdoc_certificates ADD COLUMN final_crl bytea;

// A verifier built on @sd-jwt/sd-jwt-vc (OpenWallet Foundation) checks one of our SD-JWT VCs as
// any outside verifier would, learning everything from public URLs: the issuer's keys from
// its JWT VC Issuer Metadata (/.well-known/jwt-vc-issuer/<path of iss>), the status from the
// Token Status List at status.status_list.uri (its JWT verified with the same keys), and,
// when asked, the type metadata the `vct` resolves to.
// In:  {credential, typeMetadata?: boolean}
// Out: {iss, vct, claims (disclosed, flattened), status, typeMetadata?}
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { ES256, digest } from '@sd-jwt/crypto-nodejs';
import { main, fromB64url } from './lib/harness.mjs';

async function issuerKeys(iss) {
  const url = new URL(iss);
  const metadataUrl = `${url.origin}/.well-known/jwt-vc-issuer${url.pathname.replace(/\/$/, '')}`;
  const response = await fetch(metadataUrl);
  if (!response.ok) throw new Error(`${metadataUrl}: ${response.status}`);
  const metadata = await response.json();
  if (metadata.issuer !== iss) throw new Error(`issuer metadata names ${metadata.issuer}, not ${iss}`);
  return metadata.jwks.keys;
}

await main(async ({ credential, typeMetadata = false }) => {
  const [jws] = credential.split('~');
  const payload = JSON.parse(new TextDecoder().decode(fromB64url(jws.split('.')[1])));
  const keys = await issuerKeys(payload.iss);
  // The signature and the status list JWT are both checked with the issuer key the JWS header names.
  const verifier = async (data, signature) => {
    const header = JSON.parse(new TextDecoder().decode(fromB64url(data.split('.')[0])));
    const key = keys.find((k) => k.kid === header.kid);
    if (!key) throw new Error(`no issuer key ${header.kid}`);
    return (await ES256.getVerifier(key))(data, signature);
  };
  const sdjwtvc = new SDJwtVcInstance({
    hasher: digest,
    verifier,
    loadTypeMetadataFormat: typeMetadata,
  });
  const result = await sdjwtvc.verify(credential);
  return {
    iss: result.payload.iss,
    vct: result.payload.vct,
    claims: result.payload,
    status: result.payload.status,
    typeMetadata: result.typeMetadata ?? null,
  };
});

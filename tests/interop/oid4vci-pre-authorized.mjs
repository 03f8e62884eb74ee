// A third-party wallet built on oid4vc-ts (@openid4vc/openid4vci + @openid4vc/oauth2, OpenID4VCI 1.0
// final) takes one of our credential offers as any wallet would: it resolves the
// openid-credential-offer:// link and our metadata, redeems the pre-authorized code with the
// transaction code and a DPoP proof, asks the nonce endpoint for a c_nonce, and requests a batch
// of credentials with one jwt key proof per holder key. Each SD-JWT VC is then verified by
// @sd-jwt/sd-jwt-vc with the issuer keys and status list from public URLs only.
// With `mdocBatch` it also asks, with the same token and a new c_nonce, a batch of mdocs
// (`mdocConfigurationId`) for as many new keys; with `exportKeys` it returns the holder keys'
// private JWKs, so that a test can present what the wallet holds.
// In:  {offer, txCode, batch, credentialConfigurationId, replayNonce?: boolean,
//       mdocBatch?: number, mdocConfigurationId?: string, exportKeys?: boolean, wrongTxCodeFirst?: boolean}
// Out: {tokenType, authorizationDetails, holderJwks, credentials: [{claims, cnfMatches, status, credential?}],
//       batchSize, nonceReplay?: {status, error}, wrongTxCode?: {status, error}, holderPrivateJwks?: [JWK],
//       mdocs?: [{credential: b64url(IssuerSigned), holderJwk: public JWK, holderPrivateJwk?: JWK}]}
import { clientAuthenticationAnonymous } from '@openid4vc/oauth2';
import { Openid4vciClient, setGlobalConfig } from '@openid4vc/openid4vci';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { ES256, digest } from '@sd-jwt/crypto-nodejs';
import { CompactSign, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { createHash, randomBytes } from 'node:crypto';
import { main, fromB64url } from './lib/harness.mjs';

// The tests' public origin is http://testserver; a deployment's is https.
setGlobalConfig({ allowInsecureUrls: true });

const privateKeys = new Map(); // thumbprint of a public JWK -> its private key

async function newKey() {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  privateKeys.set(await calculateJwkThumbprint(publicJwk), privateKey);
  return { method: 'jwk', alg: 'ES256', publicJwk };
}

async function privateJwk(publicJwk) {
  return exportJWK(privateKeys.get(await calculateJwkThumbprint(publicJwk)));
}

// A batch of credentials of one configuration: a new c_nonce, one new holder key and jwt proof each.
async function requestBatch(client, { issuerMetadata, accessToken, credentialConfigurationId, count, dpop }) {
  const { c_nonce: nonce } = await client.requestNonce({ issuerMetadata });
  const holders = [];
  const proofs = [];
  for (let i = 0; i < count; i += 1) {
    const signer = await newKey();
    holders.push(signer.publicJwk);
    const { jwt } = await client.createCredentialRequestJwtProof({ issuerMetadata, signer, nonce, credentialConfigurationId });
    proofs.push(jwt);
  }
  const response = await client.retrieveCredentials({
    issuerMetadata,
    accessToken,
    credentialConfigurationId,
    proofs: { jwt: proofs },
    dpop,
  });
  return { nonce, holders, response };
}

const callbacks = {
  // The pre-authorized code needs no client: anonymous access, as our AS metadata says.
  clientAuthentication: clientAuthenticationAnonymous(),
  fetch: (...args) => fetch(...args),
  hash: (data, alg) => {
    if (alg !== 'sha-256') throw new Error(`unexpected hash ${alg}`);
    return new Uint8Array(createHash('sha256').update(data).digest());
  },
  generateRandom: (length) => new Uint8Array(randomBytes(length)),
  signJwt: async (signer, { header, payload }) => {
    if (signer.method !== 'jwk') throw new Error(`unexpected signer ${signer.method}`);
    const key = privateKeys.get(await calculateJwkThumbprint(signer.publicJwk));
    const jwt = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader(header)
      .sign(key);
    return { jwt, signerJwk: signer.publicJwk };
  },
};

async function verifyCredential(credential) {
  const payload = JSON.parse(new TextDecoder().decode(fromB64url(credential.split('~')[0].split('.')[1])));
  const url = new URL(payload.iss);
  const metadata = await (await fetch(`${url.origin}/.well-known/jwt-vc-issuer${url.pathname}`)).json();
  const verifier = async (data, signature) => {
    const header = JSON.parse(new TextDecoder().decode(fromB64url(data.split('.')[0])));
    const key = metadata.jwks.keys.find((k) => k.kid === header.kid);
    if (!key) throw new Error(`no issuer key ${header.kid}`);
    return (await ES256.getVerifier(key))(data, signature);
  };
  return (await new SDJwtVcInstance({ hasher: digest, verifier }).verify(credential)).payload;
}

await main(async ({
  offer,
  txCode,
  batch,
  credentialConfigurationId,
  replayNonce = false,
  mdocBatch = 0,
  mdocConfigurationId = 'driving_licence_mdoc',
  exportKeys = false,
  wrongTxCodeFirst = false,
}) => {
  const client = new Openid4vciClient({ callbacks });
  const credentialOffer = await client.resolveCredentialOffer(offer);
  const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
  const dpopSigner = await newKey();
  let wrongTxCode;
  if (wrongTxCodeFirst) {
    // A mistyped transaction code first: the token endpoint says invalid_grant, the offer lives on.
    try {
      await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
        credentialOffer,
        issuerMetadata,
        txCode: txCode === '000000' ? '111111' : '000000',
        dpop: { signer: dpopSigner },
      });
      wrongTxCode = { status: 200 };
    } catch (error) {
      wrongTxCode = { status: error.response?.status, error: error.errorResponse?.error ?? error.message };
    }
  }
  const { accessTokenResponse, dpop } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer,
    issuerMetadata,
    txCode,
    dpop: { signer: dpopSigner },
  });
  const { nonce, holders, response } = await requestBatch(client, {
    issuerMetadata,
    accessToken: accessTokenResponse.access_token,
    credentialConfigurationId,
    count: batch,
    dpop,
  });
  const issued = response.credentialResponse.credentials.map((c) => c.credential);
  const credentials = [];
  for (const [i, credential] of issued.entries()) {
    const claims = await verifyCredential(credential);
    const cnfMatches = claims.cnf.jwk.x === holders[i].x && claims.cnf.jwk.y === holders[i].y;
    const held = { claims, cnfMatches, status: claims.status };
    if (exportKeys) held.credential = credential;
    credentials.push(held);
  }
  const out = {
    tokenType: accessTokenResponse.token_type,
    authorizationDetails: accessTokenResponse.authorization_details,
    batchSize: issuerMetadata.credentialIssuer.batch_credential_issuance?.batch_size,
    holderJwks: holders,
    credentials,
    wrongTxCode,
  };
  if (exportKeys) out.holderPrivateJwks = await Promise.all(holders.map(privateJwk));
  if (mdocBatch > 0) {
    const mdoc = await requestBatch(client, {
      issuerMetadata,
      accessToken: accessTokenResponse.access_token,
      credentialConfigurationId: mdocConfigurationId,
      count: mdocBatch,
      dpop: response.dpop ?? dpop,
    });
    out.mdocs = [];
    for (const [i, c] of mdoc.response.credentialResponse.credentials.entries()) {
      const held = { credential: c.credential, holderJwk: mdoc.holders[i] };
      if (exportKeys) held.holderPrivateJwk = await privateJwk(mdoc.holders[i]);
      out.mdocs.push(held);
    }
  }
  if (replayNonce) {
    // The same c_nonce again, for a new key: a nonce is single use.
    const signer = await newKey();
    const { jwt } = await client.createCredentialRequestJwtProof({ issuerMetadata, signer, nonce, credentialConfigurationId });
    try {
      await client.retrieveCredentials({
        issuerMetadata,
        accessToken: accessTokenResponse.access_token,
        credentialConfigurationId,
        proofs: { jwt: [jwt] },
        dpop: response.dpop ?? dpop,
      });
      out.nonceReplay = { status: 200 };
    } catch (error) {
      out.nonceReplay = { status: error.response?.response?.status, error: error.response?.credentialErrorResponseResult?.data?.error ?? error.message };
    }
  }
  return out;
});

// A third-party wallet built on oid4vc-ts (@openid4vc/openid4vci, @openid4vc/oauth2) runs
// the authorization code flow against our credential issuer, as any attested wallet would:
// it reads the issuer and authorization server metadata, pushes its authorization request
// (PAR) with PKCE S256, a DPoP proof and its wallet attestation (OAuth-Client-Attestation +
// PoP, made by the library), sends the browser to the authorization page; once the citizen
// approved in the Citizen Wallet app (the Python test plays the app), it reads the redirect,
// redeems the code (PKCE, DPoP, attestation), asks for a c_nonce and gets a credential with a
// key proof.
//
// Two steps, because the citizen acts in between (state travels through the test):
// In  {step: "authorize", issuer, clientId, redirectUri, configurationId, provider: {privateJwk, kid}}
// Out {authorizationRequestUrl, state, codeVerifier, keys, attestation, metadata}
// In  {step: "redeem", ...the above, redirectLocation}
// Out {authorizationResponse, tokenResponse, credentials}
import { generateKeyPair, exportJWK, importJWK, SignJWT, jwtVerify, calculateJwkThumbprint } from 'jose';
import { createHash, randomBytes } from 'node:crypto';
import {
  clientAuthenticationClientAttestationJwt,
  createClientAttestationJwt,
  setGlobalConfig,
  HashAlgorithm,
} from '@openid4vc/oauth2';
import { Openid4vciClient } from '@openid4vc/openid4vci';
import { main } from './lib/harness.mjs';

// Our test server's public URL is http://testserver (the harness maps it to the served app).
setGlobalConfig({ allowInsecureUrls: true });

const publicOf = ({ d, ...rest }) => rest;

async function newKey() {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return exportJWK(privateKey);
}

function callbacks(privateKeys) {
  // The signer names a public JWK; its private half is looked up by thumbprint.
  return {
    hash: (data, alg) => {
      if (alg !== HashAlgorithm.Sha256) throw new Error(`unsupported hash ${alg}`);
      return new Uint8Array(createHash('sha256').update(data).digest());
    },
    generateRandom: (length) => new Uint8Array(randomBytes(length)),
    signJwt: async (signer, { header, payload }) => {
      const jwk = signer.publicJwk;
      const thumbprint = await calculateJwkThumbprint(jwk);
      const entry = privateKeys[thumbprint];
      if (!entry) throw new Error('no private key for this signer');
      const key = await importJWK(entry.jwk, 'ES256');
      const finalHeader = entry.kid ? { ...header, kid: entry.kid, jwk: undefined } : header;
      const clean = Object.fromEntries(Object.entries(finalHeader).filter(([, v]) => v !== undefined));
      const jwt = await new SignJWT(payload).setProtectedHeader(clean).sign(key);
      return { jwt, signerJwk: jwk };
    },
    verifyJwt: async (signer, { compact }) => {
      try {
        await jwtVerify(compact, await importJWK(signer.publicJwk, signer.alg));
        return { verified: true, signerJwk: signer.publicJwk };
      } catch {
        return { verified: false };
      }
    },
    fetch: (input, init) => fetch(input, init),
  };
}

async function keyring(keys, provider) {
  const ring = {};
  for (const jwk of Object.values(keys)) ring[await calculateJwkThumbprint(publicOf(jwk))] = { jwk };
  ring[await calculateJwkThumbprint(publicOf(provider.privateJwk))] = { jwk: provider.privateJwk, kid: provider.kid };
  return ring;
}

function clientFor(ring, attestation) {
  const base = callbacks(ring);
  const clientAuthentication = clientAuthenticationClientAttestationJwt({ clientAttestationJwt: attestation, callbacks: base });
  return new Openid4vciClient({ callbacks: { ...base, clientAuthentication } });
}

const offerFor = (issuer, configurationId) => ({
  // A wallet-initiated request: the wallet asks for a configuration the issuer's metadata lists.
  credential_issuer: issuer,
  credential_configuration_ids: [configurationId],
  grants: { authorization_code: {} },
});

async function authorize(input) {
  const { issuer, clientId, redirectUri, configurationId, provider } = input;
  const keys = { instance: await newKey(), dpop: await newKey(), holder: await newKey() };
  const ring = await keyring(keys, provider);
  const now = new Date();
  const attestation = await createClientAttestationJwt({
    issuer: 'https://provider.example',
    clientId,
    confirmation: { jwk: publicOf(keys.instance) },
    issuedAt: now,
    expiresAt: new Date(now.getTime() + 3600_000),
    additionalPayload: { wallet_name: 'OID4VC-TS Test Wallet' },
    signer: { method: 'jwk', alg: 'ES256', publicJwk: publicOf(provider.privateJwk) },
    callbacks: callbacks(ring),
  });
  const client = clientFor(ring, attestation);
  const issuerMetadata = await client.resolveIssuerMetadata(issuer);
  const state = randomBytes(12).toString('base64url');
  // Openid4vciClient.initiateAuthorization sends no state (oid4vc-ts 0.4.6): the same PAR
  // through its Oauth2Client, which does.
  const started = await client.oauth2Client.initiateAuthorization({
    authorizationServerMetadata: issuerMetadata.authorizationServers[0],
    clientId,
    redirectUri,
    state,
    resource: issuerMetadata.credentialIssuer.credential_issuer,
    dpop: { signer: { method: 'jwk', alg: 'ES256', publicJwk: publicOf(keys.dpop) } },
    additionalRequestPayload: {
      authorization_details: [{ type: 'openid_credential', credential_configuration_id: configurationId }],
    },
  });
  return {
    authorizationRequestUrl: started.authorizationRequestUrl,
    state,
    codeVerifier: started.pkce?.codeVerifier,
    keys,
    attestation,
    metadata: issuerMetadata.authorizationServers[0],
  };
}

async function redeem(input) {
  const { issuer, redirectUri, configurationId, provider, keys, attestation, codeVerifier, state, redirectLocation } = input;
  const ring = await keyring(keys, provider);
  const client = clientFor(ring, attestation);
  const issuerMetadata = await client.resolveIssuerMetadata(issuer);
  const authorizationServerMetadata = issuerMetadata.authorizationServers[0];
  const authorizationResponse = client.parseAndVerifyAuthorizationResponseRedirectUrl({
    url: redirectLocation,
    authorizationServerMetadata,
  });
  if (authorizationResponse.state !== state) throw new Error('the state came back changed');
  const dpopSigner = { method: 'jwk', alg: 'ES256', publicJwk: publicOf(keys.dpop) };
  const { accessTokenResponse, dpop } = await client.retrieveAuthorizationCodeAccessTokenFromOffer({
    issuerMetadata,
    credentialOffer: offerFor(issuer, configurationId),
    authorizationCode: authorizationResponse.code,
    pkceCodeVerifier: codeVerifier,
    redirectUri,
    dpop: { signer: dpopSigner },
  });
  const { c_nonce: nonce } = await client.requestNonce({ issuerMetadata });
  const { jwt: proof } = await client.createCredentialRequestJwtProof({
    issuerMetadata,
    credentialConfigurationId: configurationId,
    signer: { method: 'jwk', alg: 'ES256', publicJwk: publicOf(keys.holder) },
    nonce,
    clientId: input.clientId,
  });
  const { credentialResponse } = await client.retrieveCredentials({
    issuerMetadata,
    accessToken: accessTokenResponse.access_token,
    credentialConfigurationId: configurationId,
    proofs: { jwt: [proof] },
    dpop: { ...dpop, signer: dpopSigner },
  });
  return {
    authorizationResponse,
    tokenResponse: { ...accessTokenResponse, access_token: undefined },
    credentials: credentialResponse.credentials,
  };
}

await main(async (input) => (input.step === 'authorize' ? authorize(input) : redeem(input)));

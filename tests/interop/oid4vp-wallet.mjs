// A wallet built on @openid4vc/openid4vp (oid4vc-ts, OpenID4VP 1.0) answers our verifier
// service: it resolves the openid4vp:// request, fetches and verifies the signed request
// object (x5c leaf chaining to the root it downloads from the verifier service, the
// x509_san_dns check on the leaf's SAN and the response URI's host), presents the holder's
// SD-JWT VC with a key-binding JWT made by @sd-jwt/sd-jwt-vc, encrypts the response with
// `jose` for direct_post.jwt, and posts it to the response URI.
// In:  {authorizationRequest: "openid4vp://?…", credential: SD-JWT VC, holderJwk: private P-256 JWK,
//       disclose?: [claim names] (default: the DCQL query's claims), queryId?: the vp_token key}
// Out: {status, body, clientId, responseMode, dcqlQuery, version}
import { X509Certificate, createHash } from 'node:crypto';
import { setGlobalConfig } from '@openid4vc/oauth2';
import { Openid4vpClient } from '@openid4vc/openid4vp';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { ES256, digest } from '@sd-jwt/crypto-nodejs';
import * as jose from 'jose';
import { main } from './lib/harness.mjs';

function sanDnsNames(certificate) {
  const names = (certificate.subjectAltName ?? '').split(',').map((n) => n.trim());
  return names.filter((n) => n.startsWith('DNS:')).map((n) => n.slice(4));
}

function callbacks(rootPem) {
  const root = new X509Certificate(rootPem);
  return {
    fetch: (...args) => globalThis.fetch(...args),
    hash: (data, alg) => new Uint8Array(createHash(alg.replace('-', '').toLowerCase()).update(data).digest()),
    getX509CertificateMetadata: (certificate) => ({
      sanDnsNames: sanDnsNames(new X509Certificate(Buffer.from(certificate, 'base64'))),
      sanUriNames: [],
    }),
    verifyJwt: async (signer, { compact }) => {
      if (signer.method !== 'x5c') throw new Error(`this wallet trusts x5c-signed requests only, not ${signer.method}`);
      const leaf = new X509Certificate(Buffer.from(signer.x5c[0], 'base64'));
      if (!leaf.checkIssued(root) || !leaf.verify(root.publicKey)) throw new Error('the x5c leaf is not issued by the trusted root');
      const now = new Date();
      if (new Date(leaf.validFrom) > now || new Date(leaf.validTo) < now) throw new Error('the x5c leaf is not valid now');
      await jose.compactVerify(compact, leaf.publicKey, { algorithms: ['ES256'] });
      return { verified: true, signerJwk: await jose.exportJWK(leaf.publicKey) };
    },
    encryptJwe: async (encryptor, data) => {
      const key = await jose.importJWK(encryptor.publicJwk, encryptor.alg);
      const header = { alg: encryptor.alg, enc: encryptor.enc, kid: encryptor.publicJwk.kid };
      if (encryptor.apu) header.apu = encryptor.apu;
      if (encryptor.apv) header.apv = encryptor.apv;
      const jwe = await new jose.CompactEncrypt(new TextEncoder().encode(data)).setProtectedHeader(header).encrypt(key);
      return { jwe, encryptionJwk: encryptor.publicJwk };
    },
    signJwt: () => {
      throw new Error('this wallet does not sign responses');
    },
    decryptJwe: () => {
      throw new Error('this wallet does not decrypt');
    },
  };
}

await main(async ({ authorizationRequest, credential, holderJwk, disclose, queryId }) => {
  const requestUri = new URL(new URL(authorizationRequest).searchParams.get('request_uri'));
  // The tests' public origin is http://testserver; a deployment's is https.
  setGlobalConfig({ allowInsecureUrls: requestUri.protocol === 'http:' });
  const rootPem = await (await fetch(`${requestUri.origin}/openid4vp/verifier-ca.pem`)).text();
  const client = new Openid4vpClient({ callbacks: callbacks(rootPem) });
  const parsed = client.parseOpenid4vpAuthorizationRequest({ authorizationRequest });
  const resolved = await client.resolveOpenId4vpAuthorizationRequest({ authorizationRequestPayload: parsed.params });
  const request = resolved.authorizationRequestPayload;
  const query = resolved.dcql.query.credentials[0];
  const names = disclose ?? (query.claims ?? []).map((claim) => claim.path[0]);

  const sdjwt = new SDJwtVcInstance({
    hasher: digest,
    kbSigner: await ES256.getSigner(holderJwk),
    kbSignAlg: 'ES256',
  });
  const presentation = await sdjwt.present(
    credential,
    Object.fromEntries(names.map((name) => [name, true])),
    { kb: { payload: { iat: Math.floor(Date.now() / 1000), aud: request.client_id, nonce: request.nonce } } },
  );

  const encrypted = request.response_mode === 'direct_post.jwt';
  const response = await client.createOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: request,
    authorizationResponsePayload: { vp_token: { [queryId ?? query.id]: [presentation] } },
    jarm: encrypted
      ? {
          encryption: { nonce: jose.base64url.encode(crypto.getRandomValues(new Uint8Array(16))) },
          serverMetadata: {
            authorization_signing_alg_values_supported: ['ES256'],
            authorization_encryption_alg_values_supported: ['ECDH-ES'],
            authorization_encryption_enc_values_supported: ['A128GCM', 'A256GCM'],
          },
        }
      : undefined,
  });
  const submitted = await client.submitOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: request,
    authorizationResponsePayload: response.authorizationResponsePayload,
    jarm: response.jarm ? { responseJwt: response.jarm.responseJwt } : undefined,
  });
  return {
    status: submitted.response.status,
    body: await submitted.response.json(),
    clientId: resolved.client.effective ?? request.client_id,
    clientPrefix: resolved.client.prefix,
    responseMode: request.response_mode,
    dcqlQuery: resolved.dcql.query,
    version: resolved.version,
  };
});

// A reader built on @animo-id/mdoc checks one of our mdocs as issued (IssuerSigned, every
// element present) against the IACA roots it downloads from our public URL: the x5chain's
// Document Signer certificate chains to a root, the issuer signature, MSO validity, and the
// digest of every item; it reports the elements and the MSO's status reference.
// In:  {issuerSigned: b64url, iacaUrl?: URL of a PEM file, iacaPem?: PEM text}
// Out: {docType, namespaces: {namespace: {element: value}}, status, deviceKey: JWK}
import { COSEKey, Verifier, parseIssuerSigned } from '@animo-id/mdoc';
import { main, b64url, fromB64url } from './lib/harness.mjs';
import { animoContext } from './lib/animo-context.mjs';

function plain(value) {
  if (value instanceof Uint8Array) return b64url(value);
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [k, plain(v)]));
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object' && typeof value.toISOString === 'function') return value.toISOString();
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

function pemToDer(pem) {
  return pem
    .match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)
    .map((block) => new Uint8Array(Buffer.from(block.replace(/-----[^-]+-----|\s/g, ''), 'base64')));
}

await main(async ({ issuerSigned, iacaUrl, iacaPem }) => {
  let pem = iacaPem;
  if (!pem) {
    const response = await fetch(iacaUrl);
    if (!response.ok) throw new Error(`${iacaUrl}: ${response.status}`);
    pem = await response.text();
  }
  const ctx = animoContext();
  const document = parseIssuerSigned(fromB64url(issuerSigned), 'org.iso.18013.5.1.mDL');
  const verifier = new Verifier();
  const { issuerAuth } = document.issuerSigned;
  await verifier.verifyIssuerSignature(
    { trustedCertificates: pemToDer(pem), issuerAuth, disableCertificateChainValidation: false },
    ctx,
  );
  await verifier.verifyData({ mdoc: document }, ctx);
  const namespaces = {};
  for (const namespace of document.issuerSignedNameSpaces) {
    namespaces[namespace] = plain(document.getIssuerNameSpace(namespace));
  }
  const mso = issuerAuth.decodedPayload;
  return {
    docType: document.docType,
    namespaces,
    status: plain(mso.status ?? null),
    deviceKey: COSEKey.import(mso.deviceKeyInfo.deviceKey).toJWK(),
  };
});

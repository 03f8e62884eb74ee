// A verifier built on @auth0/mdl checks a DeviceResponse carrying one of our mdoc driving
// licences, trusting only the IACA roots it downloads from our public URL (or those it is
// given): issuer signature, x5chain to a trusted root, MSO validity, every digest, the
// device signature over the session transcript, issuing_country against the certificate.
// In:  {deviceResponse: b64url, sessionTranscriptBytes: b64url(#6.24(SessionTranscript)),
//       iacaUrl?: URL of a PEM file, iacaPem?: PEM text}
// Out: {docType, namespaces: {namespace: {element: value (dates as YYYY-MM-DD, bytes as b64url)}}, status}
import { Verifier } from '@auth0/mdl';
import { main, b64url, fromB64url } from './lib/harness.mjs';

function plain(value) {
  if (value instanceof Uint8Array) return b64url(value);
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [k, plain(v)]));
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object' && value.constructor === Object) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  if (value && typeof value === 'object' && 'toISOString' in value) return value.toISOString().slice(0, 10);
  if (value && typeof value === 'object' && 'value' in value) return plain(value.value);
  return value;
}

await main(async ({ deviceResponse, sessionTranscriptBytes, iacaUrl, iacaPem }) => {
  let pem = iacaPem;
  if (!pem) {
    const response = await fetch(iacaUrl);
    if (!response.ok) throw new Error(`${iacaUrl}: ${response.status}`);
    pem = await response.text();
  }
  const roots = pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g);
  const verifier = new Verifier(roots);
  const mdoc = await verifier.verify(fromB64url(deviceResponse), {
    encodedSessionTranscript: fromB64url(sessionTranscriptBytes),
  });
  const [document] = mdoc.documents;
  const namespaces = {};
  for (const namespace of document.issuerSignedNameSpaces) {
    namespaces[namespace] = plain(document.getIssuerNameSpace(namespace));
  }
  const mso = document.issuerSigned.issuerAuth.decodedPayload;
  return { docType: document.docType, namespaces, status: plain(mso.status ?? null) };
});

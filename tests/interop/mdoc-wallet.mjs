// A wallet built on @auth0/mdl presents one of our mdoc driving licences: from the mdoc it
// holds (our IssuerSigned inside an MDoc container) it builds a DeviceResponse disclosing the
// chosen elements, signed with the holder's device key over the session transcript it is given
// (OID4VP 1.0's, built by the test: both mdoc libraries compute older drafts' transcripts).
// In:  {mdoc: b64url(MDoc CBOR), deviceJwk: private P-256 JWK, sessionTranscriptBytes: b64url(#6.24(SessionTranscript)),
//       disclose: {namespace: [element, ...]}}
// Out: {deviceResponse: b64url(DeviceResponse CBOR)}
import { DeviceResponse } from '@auth0/mdl';
import { main, b64url, fromB64url } from './lib/harness.mjs';

await main(async ({ mdoc, deviceJwk, sessionTranscriptBytes, disclose }) => {
  const fields = Object.entries(disclose).flatMap(([namespace, names]) =>
    names.map((name) => ({ path: [`$['${namespace}']['${name}']`], intent_to_retain: false })),
  );
  const definition = {
    id: 'mdl',
    input_descriptors: [
      {
        id: 'org.iso.18013.5.1.mDL',
        format: { mso_mdoc: { alg: ['ES256'] } },
        constraints: { limit_disclosure: 'required', fields },
      },
    ],
  };
  const response = await DeviceResponse.from(fromB64url(mdoc))
    .usingPresentationDefinition(definition)
    .usingSessionTranscriptBytes(fromB64url(sessionTranscriptBytes))
    .authenticateWithSignature(deviceJwk, 'ES256')
    .sign();
  return { deviceResponse: b64url(response.encode()) };
});

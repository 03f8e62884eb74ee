// The platform half @animo-id/mdoc asks its user for (MdocContext + X509Context), on Node's
// own crypto (OpenSSL): digests, ES256 for COSE_Sign1, and the certificate chain check of
// an mdoc reader — the Document Signer certificate issued by a trusted IACA root (name and
// signature), both within their validity. Nothing here comes from our Python code.
import { createHash, randomBytes, webcrypto, X509Certificate } from 'node:crypto';

const ES256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

function certificate(der) {
  return new X509Certificate(Buffer.from(der));
}

function nameField(distinguishedName, field) {
  return distinguishedName
    .split('\n')
    .filter((part) => part.startsWith(`${field}=`))
    .map((part) => part.slice(field.length + 1));
}

export function animoContext(now = new Date()) {
  return {
    crypto: {
      random: (length) => new Uint8Array(randomBytes(length)),
      digest: ({ digestAlgorithm, bytes }) =>
        new Uint8Array(createHash(digestAlgorithm.replace('-', '').toLowerCase()).update(bytes).digest()),
      calculateEphemeralMacKeyJwk: () => {
        throw new Error('deviceMac is not used over OID4VP');
      },
    },
    cose: {
      sign1: {
        async sign({ sign1, jwk }) {
          const { data } = sign1.getRawSigningData();
          const key = await webcrypto.subtle.importKey('jwk', jwk, ES256, false, ['sign']);
          return new Uint8Array(await webcrypto.subtle.sign(ES256, key, data));
        },
        async verify({ sign1, jwk, options }) {
          const { data, signature, alg } = sign1.getRawVerificationData(options);
          if (alg !== 'ES256') throw new Error(`unexpected alg ${alg}`);
          const { d, ...publicJwk } = jwk;
          const key = await webcrypto.subtle.importKey('jwk', publicJwk, ES256, false, ['verify']);
          return webcrypto.subtle.verify(ES256, key, signature, data);
        },
      },
      mac0: {
        sign: () => {
          throw new Error('deviceMac is not used over OID4VP');
        },
        verify: () => {
          throw new Error('deviceMac is not used over OID4VP');
        },
      },
    },
    x509: {
      getIssuerNameField: ({ certificate: der, field }) => nameField(certificate(der).issuer, field),
      getPublicKey: ({ certificate: der }) => certificate(der).publicKey.export({ format: 'jwk' }),
      validateCertificateChain({ trustedCertificates, x5chain }) {
        const leaf = certificate(x5chain[0]);
        const issuer = trustedCertificates
          .map(certificate)
          .find((root) => leaf.checkIssued(root) && leaf.verify(root.publicKey));
        if (!issuer) throw new Error('the Document Signer certificate is not issued by a trusted IACA');
        for (const cert of [leaf, issuer]) {
          if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) {
            throw new Error(`certificate ${cert.subject} is outside its validity`);
          }
        }
      },
      getCertificateData({ certificate: der }) {
        const cert = certificate(der);
        return {
          issuerName: cert.issuer,
          subjectName: cert.subject,
          serialNumber: cert.serialNumber,
          thumbprint: cert.fingerprint256.replaceAll(':', '').toLowerCase(),
          notBefore: new Date(cert.validFrom),
          notAfter: new Date(cert.validTo),
        };
      },
    },
  };
}

// A reader of SD-JWT VC type metadata as @sd-jwt/sd-jwt-vc (OpenWallet Foundation) defines it:
// GET each vct URL as a stranger would (draft-ietf-oauth-sd-jwt-vc, "From a URL in the vct
// Claim") and validate the document with the library's own schema (TypeMetadataFormatSchema).
// In:  {vcts: [vct, ...]}
// Out: {<vct>: {metadata (as the library parsed it), contentType, etag, cacheControl}}
import { TypeMetadataFormatSchema } from '@sd-jwt/sd-jwt-vc';
import { main } from './lib/harness.mjs';

await main(async ({ vcts }) => {
  const out = {};
  for (const vct of vcts) {
    const response = await fetch(vct);
    if (!response.ok) throw new Error(`${vct}: ${response.status} ${await response.text()}`);
    const parsed = TypeMetadataFormatSchema.safeParse(await response.json());
    if (!parsed.success) throw new Error(`${vct}: not type metadata: ${JSON.stringify(parsed.error.issues)}`);
    out[vct] = {
      metadata: parsed.data,
      contentType: response.headers.get('content-type'),
      etag: response.headers.get('etag'),
      cacheControl: response.headers.get('cache-control'),
    };
  }
  return out;
});

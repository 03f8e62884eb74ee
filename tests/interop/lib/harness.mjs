// The contract between a test (tests/support/node.py) and a script of tests/interop:
// one JSON value in on stdin, one JSON value out on stdout, diagnostics on stderr, exit 1 on error.
// Origins in INTEROP_ORIGINS (a JSON object) are rewritten by fetch, like /etc/hosts: the
// script uses our public URLs (http://testserver, https://citizenwallet.vn) as a wallet would,
// and the request reaches the app the test serves on 127.0.0.1.

const origins = JSON.parse(process.env.INTEROP_ORIGINS || '{}');
const realFetch = globalThis.fetch;

function rewrite(url) {
  const parsed = new URL(url);
  const target = origins[parsed.origin];
  if (!target) return url;
  return target.replace(/\/$/, '') + parsed.pathname + parsed.search;
}

globalThis.fetch = async (input, init) => {
  if (input instanceof Request) {
    return realFetch(new Request(rewrite(input.url), input), init);
  }
  return realFetch(rewrite(input instanceof URL ? input.href : String(input)), init);
};

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  return text.trim() ? JSON.parse(text) : null;
}

/** Run `body(input)` and print what it returns as JSON; any error goes to stderr with exit 1. */
export async function main(body) {
  try {
    const output = await body(await readStdin());
    process.stdout.write(JSON.stringify(output ?? null));
  } catch (error) {
    process.stderr.write(`${error?.stack ?? error}\n`);
    if (error?.cause) process.stderr.write(`cause: ${error.cause?.stack ?? JSON.stringify(error.cause)}\n`);
    process.exitCode = 1;
  }
}

/** base64url of bytes (Uint8Array or Buffer) and back: the encodings the specs use. */
export const b64url = (bytes) => Buffer.from(bytes).toString('base64url');
export const fromB64url = (text) => new Uint8Array(Buffer.from(text, 'base64url'));

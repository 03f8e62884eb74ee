// Offline verification of a wallet QR payload ("VN2:…") in the browser, with no network:
// Base45 → COSE_Sign1 (CBOR) → ES256 signature with WebCrypto against the issuer keys of the
// trust bundle → CBOR claims inflated with the bundle's preset dictionary → validity → the status entry in the issuer's
// Token Status List (itself signature-checked) — the steps of documents/verifier.py.
// Every refusal is a Refusal with a verdict the page shows; nothing here touches the page.

const B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
const PREFIX = "VN2:";
const MAX_LIFETIME = 24 * 3600;
const LEEWAY = 60;
const MAX_CLAIMS_BYTES = 16 * 1024;

export class Refusal extends Error {
  constructor(verdict, detail) {
    super(detail);
    this.verdict = verdict;
  }
}

const tampered = (why) => new Refusal("tampered", why);

export function base45Decode(text) {
  const out = [];
  for (let i = 0; i < text.length; i += 3) {
    const group = [];
    for (const c of text.slice(i, i + 3)) {
      const v = B45.indexOf(c);
      if (v < 0) throw tampered("not Base45");
      group.push(v);
    }
    if (group.length === 3) {
      const n = group[0] + group[1] * 45 + group[2] * 2025;
      if (n > 0xffff) throw tampered("Base45 group out of range");
      out.push(n >> 8, n & 0xff);
    } else if (group.length === 2) {
      const n = group[0] + group[1] * 45;
      if (n > 0xff) throw tampered("Base45 group out of range");
      out.push(n);
    } else {
      throw tampered("Base45 dangling character");
    }
  }
  return new Uint8Array(out);
}

// --- CBOR (RFC 8949): the subset our payloads use; maps keep integer keys (Map). ---

export class Tag {
  constructor(tag, value) {
    this.tag = tag;
    this.value = value;
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function cborItem(r, depth) {
  if (depth > 16) throw tampered("CBOR nested too deep");
  if (r.p >= r.b.length) throw tampered("CBOR truncated");
  const ib = r.b[r.p++];
  const major = ib >> 5;
  const info = ib & 31;
  if (major === 7) {
    if (info === 20) return false;
    if (info === 21) return true;
    if (info === 22) return null;
    throw tampered("CBOR simple value not used by wallet payloads");
  }
  let n;
  if (info < 24) n = info;
  else if (info >= 24 && info <= 27) {
    const size = 1 << (info - 24);
    if (r.p + size > r.b.length) throw tampered("CBOR truncated");
    n = 0;
    for (let k = 0; k < size; k++) n = n * 256 + r.b[r.p++];
    if (!Number.isSafeInteger(n)) throw tampered("CBOR integer too large");
  } else throw tampered("CBOR indefinite lengths are not used by wallet payloads");
  switch (major) {
    case 0:
      return n;
    case 1:
      return -1 - n;
    case 2:
    case 3: {
      if (r.p + n > r.b.length) throw tampered("CBOR truncated");
      const bytes = r.b.slice(r.p, r.p + n);
      r.p += n;
      if (major === 2) return bytes;
      try {
        return utf8.decode(bytes);
      } catch {
        throw tampered("CBOR text is not UTF-8");
      }
    }
    case 4: {
      const items = [];
      for (let k = 0; k < n; k++) items.push(cborItem(r, depth + 1));
      return items;
    }
    case 5: {
      const map = new Map();
      for (let k = 0; k < n; k++) {
        const key = cborItem(r, depth + 1);
        map.set(key, cborItem(r, depth + 1));
      }
      return map;
    }
    default:
      return new Tag(n, cborItem(r, depth + 1));
  }
}

export function cborDecode(bytes) {
  const r = { b: bytes, p: 0 };
  const value = cborItem(r, 0);
  if (r.p !== bytes.length) throw tampered("CBOR trailing bytes");
  return value;
}

function cborHead(major, n) {
  if (n < 24) return [(major << 5) | n];
  if (n < 0x100) return [(major << 5) | 24, n];
  if (n < 0x10000) return [(major << 5) | 25, n >> 8, n & 0xff];
  return [(major << 5) | 26, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

function concat(parts) {
  const total = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// COSE Sig_structure ["Signature1", protected, external_aad = h'', payload], as cbor2 encodes it.
function sigStructure(protectedBytes, payload) {
  const context = new TextEncoder().encode("Signature1");
  return concat([
    Uint8Array.of(0x84),
    Uint8Array.from(cborHead(3, context.length)),
    context,
    Uint8Array.from(cborHead(2, protectedBytes.length)),
    protectedBytes,
    Uint8Array.of(0x40),
    Uint8Array.from(cborHead(2, payload.length)),
    payload,
  ]);
}

// --- helpers ---

export function b64urlDecode(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw tampered("not base64url");
  const pad = "=".repeat((4 - (text.length % 4)) % 4);
  const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/") + pad);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function b64urlEncode(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export async function inflate(bytes, max, format = "deflate") {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream(format));
  const reader = stream.getReader();
  const chunks = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > max) {
        await reader.cancel();
        throw tampered("compressed data too large");
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof Refusal) throw err;
    throw tampered("compressed data damaged");
  }
  return concat(chunks);
}

// The claims are raw deflate with a preset dictionary, which DecompressionStream cannot be
// given. A stored (uncompressed) block holding the dictionary, put before them, fills the
// inflater's window with it just as a preset would; its output is then dropped.
export async function inflateClaims(payload, dictionary, max) {
  if (dictionary.length > 0xffff) throw tampered("dictionary too large");
  const len = dictionary.length;
  const header = Uint8Array.of(0x00, len & 0xff, len >> 8, ~len & 0xff, (~len >> 8) & 0xff);
  const out = await inflate(concat([header, dictionary, payload]), max + len, "deflate-raw");
  return out.subarray(len);
}

const keyCache = new Map();

async function publicKey(jwk) {
  let key = keyCache.get(jwk.kid);
  if (!key) {
    key = await crypto.subtle.importKey(
      "jwk",
      { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, ext: true },
      { name: "ECDSA", namedCurve: "P-256" },
      false,
      ["verify"],
    );
    keyCache.set(jwk.kid, key);
  }
  return key;
}

async function es256Verify(jwk, signature, data) {
  if (signature.length !== 64) return false;
  return crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, await publicKey(jwk), signature, data);
}

function uuidOf(bytes) {
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function isoDay(days) {
  return new Date(days * 86400000).toISOString().slice(0, 10);
}

function plain(value, record) {
  if (value instanceof Tag) {
    if (value.tag === 100 && Number.isInteger(value.value)) return isoDay(value.value);
    throw tampered("unexpected CBOR tag");
  }
  if (Array.isArray(value)) {
    if (record && value.every(Array.isArray)) {
      return value.map((item) => {
        if (item.length !== record.length) throw tampered("malformed record");
        const out = {};
        record.forEach((name, k) => {
          if (item[k] !== null) out[name] = plain(item[k], null);
        });
        return out;
      });
    }
    return value.map((v) => plain(v, null));
  }
  if (value instanceof Map || value instanceof Uint8Array) throw tampered("unexpected value");
  return value;
}

// --- the payload ---

function openEnvelope(text) {
  if (!text.startsWith(PREFIX)) throw new Refusal("not-ours", "This is not a wallet QR code.");
  const cose = cborDecode(base45Decode(text.slice(PREFIX.length)));
  if (!(cose instanceof Tag) || cose.tag !== 18 || !Array.isArray(cose.value) || cose.value.length !== 4) {
    throw tampered("not COSE_Sign1");
  }
  const [protectedBytes, unprotected, payload, signature] = cose.value;
  if (!(protectedBytes instanceof Uint8Array) || !(payload instanceof Uint8Array)) throw tampered("COSE layout");
  if (!(signature instanceof Uint8Array) || !(unprotected instanceof Map) || unprotected.size !== 0) {
    throw tampered("COSE layout");
  }
  const header = cborDecode(protectedBytes);
  if (!(header instanceof Map) || header.size !== 2 || header.get(1) !== -7 || !(header.get(4) instanceof Uint8Array)) {
    throw tampered("COSE headers");
  }
  return { kid: header.get(4), protectedBytes, payload, signature };
}

async function statusOf(bundle, issuer, listId, idx, now) {
  const entry = bundle.status_lists.find((l) => l.id === listId);
  if (!entry) throw new Refusal("status-unknown", "No status list for this document is cached.");
  const parts = entry.token.split(".");
  if (parts.length !== 3) throw new Refusal("status-unknown", "The cached status list is damaged.");
  const header = JSON.parse(new TextDecoder().decode(b64urlDecode(parts[0])));
  const claims = JSON.parse(new TextDecoder().decode(b64urlDecode(parts[1])));
  const jwk = issuer.keys.find((k) => k.kid === header.kid);
  const signed = new TextEncoder().encode(`${parts[0]}.${parts[1]}`);
  if (header.typ !== "statuslist+jwt" || !jwk || !(await es256Verify(jwk, b64urlDecode(parts[2]), signed))) {
    throw new Refusal("status-unknown", "The cached status list is not signed by this document's issuer.");
  }
  if (typeof claims.sub !== "string" || !claims.sub.endsWith(`/status-lists/${listId}`)) {
    throw new Refusal("status-unknown", "The cached status list is for another list.");
  }
  const age = now - bundle.generated_at;
  if (claims.exp < now || age > claims.ttl) {
    throw new Refusal(
      "stale",
      `The cached status lists are ${Math.round(age / 60)} min old; they may be trusted offline for ` +
        `${Math.round(claims.ttl / 60)} min. Connect to the network to refresh them.`,
    );
  }
  const raw = await inflate(b64urlDecode(claims.status_list.lst), 1 << 20);
  const bits = claims.status_list.bits;
  const perByte = 8 / bits;
  const at = Math.floor(idx / perByte);
  if (idx < 0 || at >= raw.length) throw new Refusal("status-unknown", "The status index is outside the list.");
  return (raw[at] >> ((idx % perByte) * bits)) & ((1 << bits) - 1);
}

// Verify a VN2 payload against the cached trust bundle; returns what the page shows.
export async function verifyOffline(text, bundle, now = Math.floor(Date.now() / 1000)) {
  const envelope = openEnvelope(text);
  const dictionary = Uint8Array.from(atob(bundle.offline_dictionary || ""), (c) => c.charCodeAt(0));
  // The claims name the issuer whose keys to try; nothing in them is believed before the signature.
  const peek = cborDecode(await inflateClaims(envelope.payload, dictionary, MAX_CLAIMS_BYTES));
  const orgId = peek instanceof Map ? peek.get(1) : undefined;
  const issuer = bundle.issuers.find((i) => i.id === orgId);
  if (!issuer) throw new Refusal("unknown-issuer", "The QR code names an issuer we do not know.");
  const prefix = b64urlEncode(envelope.kid);
  const jwk = issuer.keys.find((k) => k.kid.startsWith(prefix));
  if (!jwk) throw new Refusal("unknown-issuer", "The QR code was signed by a key we do not know.");
  const ok = await es256Verify(jwk, envelope.signature, sigStructure(envelope.protectedBytes, envelope.payload));
  if (!ok) throw tampered("The QR code's signature does not verify.");
  const body = peek;
  const type = bundle.types.find((t) => t.code === body.get(-1));
  const status = body.get(-2);
  const fields = body.get(-3);
  const [exp, iat, level] = [body.get(4), body.get(6), body.get(-4)];
  if (!type || !Array.isArray(status) || !(status[0] instanceof Uint8Array) || status[0].length !== 16) {
    throw tampered("The QR code's claims cannot be read.");
  }
  if (![exp, iat, level, status[1]].every(Number.isInteger) || !(fields instanceof Map)) {
    throw tampered("The QR code's claims cannot be read.");
  }
  if (exp - iat > MAX_LIFETIME) throw tampered("The QR code's validity is not acceptable.");
  if (now > exp + LEEWAY) throw new Refusal("expired", "The QR code has expired; ask for a fresh one.");
  if (now + LEEWAY < iat) throw new Refusal("not-yet-valid", "The QR code is not valid yet (check the clock).");
  const revealed = {};
  for (const [key, value] of fields) {
    const name = type.offline_keys[String(key)];
    if (!name) throw tampered("The QR code's claims cannot be read.");
    revealed[name] = plain(value, type.records[name] || null);
  }
  const value = await statusOf(bundle, issuer, uuidOf(status[0]), status[1], now);
  if (value === 1) throw new Refusal("revoked", "The issuer revoked this document.");
  if (value === 2) throw new Refusal("suspended", "The issuer suspended this document.");
  if (value !== 0) throw new Refusal("status-unknown", `Unknown status value ${value}.`);
  return {
    kind: "offline",
    status: "valid",
    document_type: type.code,
    title: type.title,
    issuer: { id: issuer.id, name: issuer.name },
    valid_from: new Date(iat * 1000).toISOString(),
    valid_until: new Date(exp * 1000).toISOString(),
    holder_level: level,
    fields: revealed,
    labels: Object.fromEntries(Object.keys(revealed).map((n) => [n, type.labels[n] || { vi: n, en: n }])),
    photo: type.photo,
    portrait: type.portrait,
  };
}

// Service worker of the verifier web app: keeps the app shell and the trust bundle (issuer
// keys and status lists) so that offline QR codes can be verified with no network at all.
const SHELL = "cw-verify-shell-v3";
const TRUST = "cw-verify-trust-v1";
const ASSETS = [
  "/verify",
  "/verify/manifest.webmanifest",
  "/static/consoles/verify.js",
  "/static/consoles/verdict.js",
  "/static/consoles/verify-ask.js",
  "/static/consoles/verify-offline.js",
  "/static/consoles/console.css",
  "/static/consoles/vendor/jsQR.js",
  "/static/consoles/icon-192.png",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((c) => c.addAll(ASSETS)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== SHELL && k !== TRUST).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// Network first, the cached copy when the network fails; only good answers are kept.
async function networkFirst(request, cacheName, key) {
  try {
    const response = await fetch(request);
    if (response.ok) {
      const cache = await caches.open(cacheName);
      await cache.put(key || request, response.clone());
    }
    return response;
  } catch (err) {
    const cached = await caches.match(key || request);
    if (!cached) throw err;
    // Marked, so the page knows it got its old copy and can try the network again later.
    const headers = new Headers(cached.headers);
    headers.set("X-Served-From", "cache");
    return new Response(cached.body, { status: cached.status, statusText: cached.statusText, headers });
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname === "/verify/trust.json") {
    event.respondWith(networkFirst(request, TRUST));
  } else if (url.pathname === "/verify" || url.pathname === "/verify/") {
    event.respondWith(networkFirst(request, SHELL, "/verify"));
  } else if (ASSETS.includes(url.pathname)) {
    event.respondWith(networkFirst(request, SHELL));
  }
});

// The verifier page: camera scanning (jsQR), online verification through the server, offline
// verification in the browser (verify-offline.js) against the trust bundle the service worker caches;
// the verdict panel is verdict.js's.
import { SLUGS, bilingual, show } from "/static/consoles/verdict.js";
import { Refusal, verifyOffline } from "/static/consoles/verify-offline.js";

const $ = (id) => document.getElementById(id);
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const TRUST_KEY = "cw-verify-trust";

const CODE_DETAILS = {
  "code-unknown": "Mã không tồn tại. / No such code.",
  "code-expired": "Mã đã hết hạn (3 phút); đề nghị người dân tạo mã mới. / The code expired; ask for a new one.",
  "code-replayed": "Mã đã được dùng; đề nghị người dân tạo mã mới. / The code was already used; ask for a new one.",
  "wrong-verifier": "Mã được tạo cho đơn vị khác. / The code was made for another verifier.",
};

// --- trust bundle (cached by the service worker; a copy in localStorage for the age display) ---

function cachedBundle() {
  try {
    return JSON.parse(localStorage.getItem(TRUST_KEY));
  } catch {
    return null;
  }
}

// Fetches the bundle. The service worker answers with its copy, marked "X-Served-From: cache",
// when the network fails: then, if the browser says it is online (the network may come back a
// moment after the "online" event), the page tries again shortly. Each bundle fetched from the
// server stamps #cache-age with the moment it arrived (data-fetched-at).
let retry = null;
const RETRY_MS = 5000;

async function refreshBundle() {
  clearTimeout(retry);
  let fresh = false;
  try {
    const r = await fetch("/verify/trust.json", { credentials: "same-origin" });
    if (r.ok) {
      const bundle = await r.json();
      const old = cachedBundle();
      // The service worker answers from its cache when the network is down: keep the newest.
      if (!old || bundle.generated_at >= old.generated_at) localStorage.setItem(TRUST_KEY, JSON.stringify(bundle));
      fresh = r.headers.get("X-Served-From") !== "cache";
    }
  } catch {
    // offline and nothing cached by the service worker yet: the age line says so
  }
  showCacheAge();
  if (fresh) $("cache-age").dataset.fetchedAt = String(Date.now());
  else if (navigator.onLine) retry = setTimeout(refreshBundle, RETRY_MS);
}

function showCacheAge() {
  const bundle = cachedBundle();
  const line = $("cache-age");
  if (!bundle) {
    line.textContent =
      "Chưa có dữ liệu ngoại tuyến; hãy kết nối mạng một lần. / No offline data yet; connect once to fetch it.";
    line.dataset.generatedAt = "";
    return;
  }
  const minutes = Math.max(0, Math.round((Date.now() / 1000 - bundle.generated_at) / 60));
  line.dataset.generatedAt = String(bundle.generated_at);
  line.textContent =
    `Khóa và danh sách trạng thái cập nhật ${minutes} phút trước (${bundle.status_lists.length} danh sách). ` +
    `/ Keys and status lists updated ${minutes} min ago (${bundle.status_lists.length} lists).`;
}

function showNetwork() {
  $("network-state").textContent = navigator.onLine
    ? "Đang trực tuyến: mã được kiểm tra với máy chủ. / Online: codes are checked with the server."
    : "Ngoại tuyến: mã QR ngoại tuyến được kiểm tra trên máy này. / Offline: offline QR codes are checked on this device.";
}

function showRefusal(err) {
  if (err instanceof Refusal) show(err.verdict, bilingual(err.verdict, err.message), null);
  else show("error", "Lỗi không mong đợi. / Unexpected error.", null);
}

async function verifyLocally(text) {
  const bundle = cachedBundle();
  if (!bundle) {
    show("status-unknown", "Chưa có dữ liệu ngoại tuyến. / No offline data cached yet.", null);
    return;
  }
  try {
    show("valid", "Đã kiểm tra chữ ký và danh sách trạng thái trên máy này. / Signature and status checked on this device.", await verifyOffline(text, bundle));
  } catch (err) {
    showRefusal(err);
  }
}

async function verify(text) {
  text = text.trim();
  if (!text) return;
  if (/^openid4vp:/i.test(text)) {
    // A verifier's request for a wallet (perhaps another verifier's screen), not a citizen's document.
    return show(
      "not-ours",
      "Đây là yêu cầu dành cho ví, không phải giấy tờ; để hỏi ví, dùng mục “Yêu cầu ví xuất trình”. / This is a request for a wallet, not a document; to ask a wallet, use “Ask the citizen's wallet”.",
      null,
    );
  }
  const isOffline = text.startsWith("VN2:");
  if (!navigator.onLine) {
    if (isOffline) return verifyLocally(text);
    return show(
      /\/v\/[A-Za-z0-9_-]{32}$/.test(text) || /^[A-Za-z0-9_-]{32}$/.test(text) ? "needs-network" : "not-ours",
      "Mã trực tuyến cần kết nối mạng; đề nghị người dân đưa mã QR ngoại tuyến. / An online code needs the network; ask for the offline QR code.",
      null,
    );
  }
  let r;
  try {
    r = await fetch("/verify/check", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ payload: text }),
    });
  } catch {
    if (isOffline) return verifyLocally(text);
    return show("needs-network", "Không kết nối được máy chủ. / The server cannot be reached.", null);
  }
  let body = null;
  try {
    body = await r.json();
  } catch {
    body = null;
  }
  if (r.ok && body) return show("valid", "Đã kiểm tra với máy chủ. / Checked with the server.", body);
  if (r.status === 401) {
    return show("error", "Phiên đăng nhập đã hết hạn; hãy tải lại trang và đăng nhập. / Your session has expired; reload and sign in.", null);
  }
  const slug = body && typeof body.type === "string" ? body.type.split("/").pop() : "";
  const verdict = SLUGS[slug] || "error";
  const detail = CODE_DETAILS[slug] || bilingual(verdict, (body && body.detail) || `HTTP ${r.status}`, slug);
  if (r.status >= 500 && isOffline) return verifyLocally(text);
  show(verdict, detail, null);
}

// --- camera ---

let stream = null;
let scanning = false;

async function startCamera() {
  const message = $("camera-message");
  if (!navigator.mediaDevices?.getUserMedia) {
    message.textContent = "Trình duyệt không hỗ trợ camera; hãy dán mã. / This browser has no camera access; paste the code instead.";
    return;
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  } catch (err) {
    message.className = "message error";
    message.textContent =
      err && err.name === "NotAllowedError"
        ? "Camera bị từ chối: hãy cho phép camera trong cài đặt trình duyệt, hoặc dán mã bên dưới. / The camera was denied: allow it in the browser settings, or paste the code below."
        : "Không mở được camera; hãy dán mã bên dưới. / The camera could not be opened; paste the code below.";
    return;
  }
  const video = $("camera");
  video.srcObject = stream;
  await video.play();
  message.className = "message";
  message.textContent = "Đưa mã QR vào khung hình. / Hold the QR code in front of the camera.";
  $("start-camera").hidden = true;
  $("stop-camera").hidden = false;
  scanning = true;
  requestAnimationFrame(scanFrame);
}

function stopCamera() {
  scanning = false;
  if (stream) stream.getTracks().forEach((t) => t.stop());
  stream = null;
  $("start-camera").hidden = false;
  $("stop-camera").hidden = true;
}

function scanFrame() {
  if (!scanning) return;
  const video = $("camera");
  if (video.readyState >= video.HAVE_CURRENT_DATA && video.videoWidth) {
    const canvas = $("frame");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(video, 0, 0);
    const image = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
    if (found && found.data) {
      stopCamera();
      $("payload").value = found.data;
      verify(found.data);
      return;
    }
  }
  setTimeout(() => requestAnimationFrame(scanFrame), 150);
}

// --- wiring ---

$("start-camera").addEventListener("click", startCamera);
$("stop-camera").addEventListener("click", stopCamera);
$("manual").addEventListener("submit", (e) => {
  e.preventDefault();
  verify($("payload").value);
});
$("scan-again").addEventListener("click", () => {
  $("verdict").hidden = true;
  $("payload").value = "";
  startCamera();
});
$("refresh-cache").addEventListener("click", refreshBundle);
window.addEventListener("online", () => {
  showNetwork();
  refreshBundle();
});
window.addEventListener("offline", showNetwork);

// Signing out forgets the offline data and the cached page of this officer.
document.querySelector('form[action="/verify/sign-out"]')?.addEventListener("submit", async (e) => {
  e.preventDefault();
  localStorage.removeItem(TRUST_KEY);
  if ("caches" in window) await Promise.all((await caches.keys()).map((k) => caches.delete(k)));
  e.target.submit();
});

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/verify/sw.js", { scope: "/verify" }).catch(() => {});
}
showNetwork();
showCacheAge();
refreshBundle();
// While online, keep the lists fresh: every minute (they may be trusted offline for their ttl).
setInterval(() => navigator.onLine && refreshBundle(), 60000);

// The verifier page asks the citizen's wallet for chosen claims (OpenID4VP): the officer picks a
// document type and claims (or a preset), the server makes the request and its QR code, and this
// script waits for the answer by asking the server every POLL_MS, then shows it in the verdict panel.
import { bilingual, show } from "/static/consoles/verdict.js";

const $ = (id) => document.getElementById(id);
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const POLL_MS = 1500;

// The verifier service's refusal reasons (openid4vp/responses.py) that are a document's verdict, and
// the cause whose words verdict.js has for them; any other reason is an invalid response.
const DOCUMENT_REFUSALS = {
  "document-revoked": ["revoked", "document-revoked"],
  "document-suspended": ["suspended", "document-suspended"],
  "document-expired": ["expired", "document-expired"],
  expired: ["expired", "presentation-expired"],
  "not-yet-valid": ["not-yet-valid", "presentation-not-yet-valid"],
  tampered: ["tampered", "presentation-tampered"],
  "unknown-issuer": ["unknown-issuer", "presentation-unknown-issuer"],
};

const SESSION_ENDED =
  "Phiên đăng nhập đã hết hạn; hãy tải lại trang và đăng nhập. / Your session has expired; reload and sign in.";

let waiting = null; // the request the page is waiting for: {id, timer}

function say(text, error = false) {
  const line = $("ask-message");
  line.className = error ? "message error" : "message";
  line.textContent = text;
}

function shownFieldset() {
  return document.querySelector(`fieldset.claims[data-type="${CSS.escape($("ask-type").value)}"]`);
}

function chooseType() {
  for (const set of document.querySelectorAll("fieldset.claims")) {
    const shown = set.dataset.type === $("ask-type").value;
    set.hidden = !shown;
    set.disabled = !shown;
  }
}

function choosePreset() {
  const option = $("ask-preset").selectedOptions[0];
  if (!option || !option.value) return;
  $("ask-type").value = option.dataset.type;
  chooseType();
  const claims = new Set(option.dataset.claims.split(" "));
  for (const box of shownFieldset().querySelectorAll("input[type=checkbox]")) box.checked = claims.has(box.value);
}

function stopWaiting() {
  if (waiting) clearTimeout(waiting.timer);
  waiting = null;
  $("ask-pending").hidden = true;
}

function finish(verdict, detail, answer) {
  stopWaiting();
  show(verdict, detail, answer);
}

function refusal(reason, detail) {
  if (reason === "wallet-error") {
    return finish(
      "wallet-declined",
      `Người dân đã từ chối, hoặc ví không có giấy tờ phù hợp. / The holder declined, or the wallet has no matching document (${detail || "no reason given"}).`,
    );
  }
  const known = DOCUMENT_REFUSALS[reason];
  if (known) return finish(known[0], bilingual(known[0], detail || reason, known[1]));
  finish(
    "invalid-response",
    `Phản hồi của ví không hợp lệ; không thông tin nào được chấp nhận. / The wallet's response was refused: ${detail || reason}`,
  );
}

async function poll() {
  const mine = waiting;
  if (!mine) return;
  let r = null;
  let body = null;
  try {
    r = await fetch(`/verify/presentation-requests/${encodeURIComponent(mine.id)}`, {
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf },
    });
    body = await r.json();
  } catch {
    // the network or the server is away for a moment: ask again
  }
  if (mine !== waiting) return; // cancelled, or another request made meanwhile
  if (r && r.status === 404) {
    return finish(
      "request-expired",
      "Yêu cầu đã hết hạn trước khi ví trả lời; hãy tạo yêu cầu mới. / The request expired before the wallet answered; create a new one.",
    );
  }
  if (r && r.status === 401) return finish("error", SESSION_ENDED);
  if (r && r.ok && body) {
    if (body.state === "presented") {
      return finish(
        "valid",
        "Ví đã xuất trình; máy chủ đã kiểm tra chữ ký, khóa của ví và trạng thái. / Presented by the wallet; signature, holder key and status checked by the server.",
        body.answer,
      );
    }
    if (body.state === "refused") return refusal(body.reason, body.detail);
    if (body.state === "delivered") {
      return finish(
        "error",
        "Kết quả đã được hiển thị một lần; hãy tạo yêu cầu mới. / The answer was already shown once; create a new request.",
      );
    }
    $("ask-state").textContent = body.request_fetched
      ? "Ví đã mở yêu cầu; đang chờ người dân đồng ý… / The wallet opened the request; waiting for the holder to agree…"
      : "Đang chờ ví của người dân quét mã… / Waiting for the citizen's wallet to scan the code…";
  }
  mine.timer = setTimeout(poll, POLL_MS);
}

async function createRequest(event) {
  event.preventDefault();
  stopWaiting();
  say("");
  const claims = [...shownFieldset().querySelectorAll("input[type=checkbox]:checked")].map((box) => box.value);
  if (!claims.length) return say("Hãy chọn ít nhất một thông tin. / Choose at least one claim.", true);
  let r;
  let body = null;
  try {
    r = await fetch("/verify/presentation-requests", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ document_type: $("ask-type").value, claims }),
    });
    body = await r.json();
  } catch {
    if (!r) return say("Không kết nối được máy chủ; yêu cầu cần mạng. / The server cannot be reached; a request needs the network.", true);
  }
  if (r.status === 401) return say(SESSION_ENDED, true);
  if (!r.ok || !body) return say(`Không tạo được yêu cầu. / The request was not made: ${(body && body.detail) || `HTTP ${r.status}`}`, true);
  $("verdict").hidden = true;
  $("ask-qr").src = `data:image/png;base64,${body.qr_png}`;
  $("ask-link").href = body.authorization_request;
  const asked = body.asked.map((c) => `${c.label.vi} / ${c.label.en}`).join("; ");
  $("ask-what").textContent = `${body.title.vi} / ${body.title.en}: ${asked}`;
  const until = new Date(body.expires_at);
  $("ask-expires").textContent = `Hết hạn lúc ${until.toLocaleTimeString("vi-VN")} / Expires at ${until.toLocaleTimeString("en-GB")}`;
  $("ask-state").textContent = "Đang chờ ví của người dân quét mã… / Waiting for the citizen's wallet to scan the code…";
  $("ask-pending").hidden = false;
  $("ask-pending").dataset.transaction = body.transaction_id;
  waiting = { id: body.transaction_id, timer: null };
  $("ask-what").focus();
  poll();
}

$("ask-type").addEventListener("change", () => {
  $("ask-preset").value = "";
  chooseType();
});
$("ask-preset").addEventListener("change", choosePreset);
for (const box of document.querySelectorAll("fieldset.claims input[type=checkbox]")) {
  box.addEventListener("change", () => {
    $("ask-preset").value = "";
  });
}
$("ask").addEventListener("submit", createRequest);
$("ask-cancel").addEventListener("click", () =>
  finish(
    "cancelled",
    "Đã hủy: trang không chờ câu trả lời nữa và không hiển thị kết quả. / Cancelled: the page no longer waits for the answer and shows none.",
  ),
);
chooseType();

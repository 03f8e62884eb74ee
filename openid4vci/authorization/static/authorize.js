// The authorization page waits for the citizen's decision in the app, then goes back to the
// wallet through the server's continue URL (which makes the code for this browser only).
(function () {
  "use strict";
  var section = document.getElementById("authorization");
  if (!section) { return; }
  var statusUrl = section.getAttribute("data-status-url");
  var continueUrl = section.getAttribute("data-continue-url");
  var statusLine = document.getElementById("status");
  var messages = {
    approved: "Đã phê duyệt, đang quay lại ví… / Approved, returning to the wallet…",
    denied: "Đã từ chối, đang quay lại ví… / Declined, returning to the wallet…",
    expired: "Đã hết hạn, đang quay lại ví… / Expired, returning to the wallet…"
  };
  function poll() {
    fetch(statusUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : { status: "pending" }; })
      .then(function (body) {
        if (messages[body.status]) {
          statusLine.textContent = messages[body.status];
          window.location.assign(continueUrl);
        } else if (body.status === "pending") {
          window.setTimeout(poll, 2000);
        }
      })
      .catch(function () { window.setTimeout(poll, 4000); });
  }
  window.setTimeout(poll, 1000);
})();

// Welfare console behaviours: the enrolment upload with a progress bar, and a released
// batch's live progress (server-sent events) with counts and a chart of settled payments.
const csrf = document.querySelector('meta[name="csrf-token"]').content;

const enrolForm = document.getElementById("enrol-form");
if (enrolForm) {
  enrolForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const file = document.getElementById("enrol-file").files[0];
    const message = document.getElementById("enrol-message");
    const bar = document.getElementById("enrol-progress");
    if (!file) return;
    const programme = enrolForm.dataset.programme;
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/welfare/programmes/${programme}/enrolments`);
    xhr.setRequestHeader("Content-Type", "text/csv");
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (p) => {
      if (p.lengthComputable) bar.value = Math.round((p.loaded * 100) / p.total);
    });
    xhr.addEventListener("load", () => {
      const body = xhr.response || {};
      if (xhr.status === 201) {
        bar.value = 100;
        location.assign(`/welfare/programmes/${programme}/enrolments/${body.id}`);
        return;
      }
      message.className = "message error";
      bar.value = 0;
      if (xhr.status === 401) {
        // Nothing was saved: the officer signs in again (this page, reloaded, asks) and re-sends the file.
        message.textContent =
          "Phiên đăng nhập đã hết hạn; chưa có gì được lưu. / Your session has expired; nothing was saved. ";
        const again = document.createElement("a");
        again.href = location.pathname;
        again.textContent = "Đăng nhập lại / Sign in again";
        message.append(again);
        return;
      }
      message.textContent = `${body.title || "Lỗi / Error"}: ${body.detail || xhr.status}`;
    });
    xhr.addEventListener("error", () => {
      message.className = "message error";
      message.textContent = "Không gửi được tệp; kiểm tra mạng. / The file could not be sent; check the network.";
    });
    message.className = "message";
    message.textContent = "Đang tải lên… / Uploading…";
    bar.value = 0;
    xhr.send(file);
  });
}

const section = document.getElementById("progress-section");
const chart = document.querySelector("#progress-chart polyline");
// [at (epoch seconds), settled, total]: first what the server counted when the page was drawn
// (so a reloaded page still shows the chart), then each live event.
const points = [];
function drawChart() {
  if (points.length === 0) return;
  const t0 = points[0][0];
  const span = Math.max(1, points[points.length - 1][0] - t0);
  chart.setAttribute(
    "points",
    points.map(([at, done, total]) => `${((at - t0) / span) * 400},${120 - (total ? (done / total) * 110 : 0)}`).join(" "),
  );
}
if (section) {
  const total = Number(document.getElementById("progress-total").textContent);
  const settled = JSON.parse(document.getElementById("progress-chart").dataset.settled || "[]");
  // Nothing was settled before the first count: the line starts from zero.
  if (settled.length > 0) points.push([settled[0][0] - 1, 0, total]);
  for (const [at, done] of settled) points.push([at, done, total]);
  drawChart();
}
if (section && section.dataset.live === "yes") {
  const source = new EventSource(`/welfare/batches/${section.dataset.batch}/events`);
  const doneAtLoad = document.getElementById("progress-done").textContent;
  source.addEventListener("progress", (e) => {
    const p = JSON.parse(e.data);
    // The failures and not-reached lists were drawn with the page: say when they are behind.
    if (String(p.done) !== doneAtLoad) document.getElementById("lists-stale").hidden = false;
    document.getElementById("progress-percent").textContent = p.percent;
    document.getElementById("progress-done").textContent = p.done;
    document.getElementById("progress-total").textContent = p.total;
    document.getElementById("batch-progress").value = p.percent;
    const body = document.querySelector("#progress-states tbody");
    body.replaceChildren();
    for (const [state, t] of Object.entries(p.by_state)) {
      const row = body.insertRow();
      row.insertCell().textContent = state;
      row.insertCell().textContent = t.count;
      row.insertCell().textContent = t.amount.toLocaleString("vi-VN");
    }
    points.push([p.at, p.done, p.total]);
    drawChart();
    if (p.percent === 100) {
      section.dataset.done = "yes";
      source.close();
    }
  });
}

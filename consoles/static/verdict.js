// The verdict panel of the verifier page, whichever way the document was checked: an online
// code or offline QR (verify.js), or a wallet's answer to an OpenID4VP request (verify-ask.js).
// The same words, colours and facts for all, in Vietnamese and English.

const $ = (id) => document.getElementById(id);

// Each verdict in both languages; `tone` colours the banner (ok, bad, unsure).
export const VERDICTS = {
  valid: ["✓", "HỢP LỆ", "VALID", "ok"],
  revoked: ["✗", "ĐÃ BỊ THU HỒI", "REVOKED", "bad"],
  suspended: ["✗", "ĐANG BỊ TẠM ĐÌNH CHỈ", "SUSPENDED", "bad"],
  expired: ["✗", "HẾT HẠN", "EXPIRED", "bad"],
  tampered: ["✗", "BỊ SỬA ĐỔI HOẶC HỎNG", "TAMPERED", "bad"],
  "unknown-issuer": ["✗", "KHÔNG RÕ CƠ QUAN CẤP", "UNKNOWN ISSUER", "bad"],
  "not-ours": ["?", "KHÔNG PHẢI MÃ CỦA VÍ CÔNG DÂN", "NOT A WALLET CODE", "unsure"],
  "not-yet-valid": ["?", "CHƯA CÓ HIỆU LỰC", "NOT YET VALID", "unsure"],
  "code-refused": ["✗", "MÃ KHÔNG DÙNG ĐƯỢC", "CODE NOT USABLE", "bad"],
  stale: ["?", "DỮ LIỆU NGOẠI TUYẾN QUÁ CŨ", "OFFLINE DATA TOO OLD", "unsure"],
  "status-unknown": ["?", "KHÔNG XÁC ĐỊNH ĐƯỢC TRẠNG THÁI", "STATUS UNKNOWN", "unsure"],
  "needs-network": ["?", "CẦN KẾT NỐI MẠNG", "NETWORK NEEDED", "unsure"],
  "wallet-declined": ["?", "NGƯỜI DÂN KHÔNG CHIA SẺ", "THE HOLDER DECLINED", "unsure"],
  "invalid-response": ["✗", "PHẢN HỒI KHÔNG HỢP LỆ", "INVALID RESPONSE", "bad"],
  "request-expired": ["?", "YÊU CẦU ĐÃ HẾT HẠN", "REQUEST EXPIRED", "unsure"],
  cancelled: ["?", "ĐÃ HỦY YÊU CẦU", "REQUEST CANCELLED", "unsure"],
  error: ["?", "KHÔNG XÁC THỰC ĐƯỢC", "COULD NOT VERIFY", "unsure"],
};

export const SLUGS = {
  "document-revoked": "revoked",
  "document-suspended": "suspended",
  "document-expired": "expired",
  expired: "expired",
  tampered: "tampered",
  "unknown-issuer": "unknown-issuer",
  "malformed-payload": "not-ours",
  "not-yet-valid": "not-yet-valid",
  "code-unknown": "code-refused",
  "code-expired": "code-refused",
  "code-replayed": "code-refused",
  "wrong-verifier": "code-refused",
};

// What each refusal means, in Vietnamese (the English detail comes from the check itself).
const VI_DETAILS = {
  revoked: "Cơ quan cấp đã thu hồi giấy tờ này.",
  suspended: "Giấy tờ đang bị tạm đình chỉ.",
  expired: "Mã QR đã hết hạn; đề nghị người dân đưa mã mới.",
  tampered: "Mã QR đã bị sửa đổi hoặc bị hỏng.",
  "unknown-issuer": "Mã QR được ký bởi cơ quan hoặc khóa không xác định.",
  "not-ours": "Đây không phải mã QR của Ví công dân.",
  "not-yet-valid": "Mã QR chưa có hiệu lực (kiểm tra đồng hồ thiết bị).",
  stale: "Dữ liệu ngoại tuyến đã quá cũ; hãy kết nối mạng để cập nhật.",
  "status-unknown": "Không có danh sách trạng thái đáng tin cậy cho giấy tờ này.",
};

// Where one verdict has several causes, the cause's own words (the document, not the QR, expired).
// A wallet's presentation (OpenID4VP) is not a QR code: its own words.
const VI_CAUSES = {
  "document-expired": "Giấy tờ đã hết hạn.",
  "presentation-expired": "Thông tin xác thực trong ví đã hết hạn.",
  "presentation-tampered": "Dữ liệu ví gửi đã bị sửa đổi hoặc không thuộc giấy tờ nào của cơ quan cấp.",
  "presentation-unknown-issuer": "Thông tin được ký bởi cơ quan hoặc khóa không xác định.",
  "presentation-not-yet-valid": "Thông tin xác thực trong ví chưa có hiệu lực.",
};

export const bilingual = (verdict, english, cause) => {
  const vi = VI_CAUSES[cause] || VI_DETAILS[verdict];
  return vi ? `${vi} / ${english}` : english;
};

function fieldText(value) {
  if (Array.isArray(value)) return value.map(fieldText).join("; ");
  if (value && typeof value === "object") return Object.values(value).map(fieldText).join(" ");
  if (value === true) return "Có / Yes";
  if (value === false) return "Không / No";
  return String(value);
}

const CHECKED = {
  online: "trực tuyến / online",
  offline: "ngoại tuyến / offline",
  openid4vp: "ví xuất trình qua OpenID4VP, khóa của ví đã kiểm tra / presented by the wallet (OpenID4VP), holder key checked",
};

function addFact(list, vi, en, value) {
  const dt = document.createElement("dt");
  dt.textContent = `${vi} / ${en}`;
  const dd = document.createElement("dd");
  dd.textContent = value;
  list.append(dt, dd);
}

// The holder's portrait, so the officer can compare the face with the person in front of
// them. Only a bounded base64 JPEG or PNG data: URI becomes a picture (the CSP allows data:
// images and nothing else from outside this origin); anything else is said to be unreadable.
const PORTRAIT = /^data:image\/(jpeg|png);base64,[A-Za-z0-9+/]+={0,2}$/;
const MAX_PORTRAIT_CHARS = 23 + Math.ceil((16 * 1024) / 3) * 4;

function showPortrait(figure, value, label) {
  figure.hidden = false;
  const caption = document.createElement("figcaption");
  caption.textContent = `${label.vi} / ${label.en}`;
  if (typeof value === "string" && value.length <= MAX_PORTRAIT_CHARS && PORTRAIT.test(value)) {
    const img = document.createElement("img");
    img.src = value;
    img.alt = `${label.vi} / ${label.en}`;
    figure.append(img, caption);
  } else {
    caption.textContent += ": không đọc được ảnh / the picture cannot be read";
    figure.append(caption);
  }
}

export function show(verdict, detail, answer) {
  const [icon, vi, en, tone] = VERDICTS[verdict] || VERDICTS.error;
  const banner = $("verdict-banner");
  banner.dataset.verdict = verdict;
  banner.className = `verdict verdict-${tone}`;
  $("verdict-icon").textContent = icon;
  $("verdict-vi").textContent = vi;
  $("verdict-en").textContent = en;
  $("verdict-detail").textContent = detail || "";
  const facts = $("verdict-facts");
  facts.replaceChildren();
  const table = $("verdict-fields");
  const body = table.querySelector("tbody");
  body.replaceChildren();
  const photo = $("verdict-photo");
  photo.replaceChildren();
  photo.hidden = true;
  table.hidden = true;
  if (answer) {
    addFact(facts, "Giấy tờ", "Document", `${answer.title.vi} / ${answer.title.en}`);
    addFact(facts, "Cơ quan cấp", "Issuer", answer.issuer.name || answer.issuer.id);
    const from = answer.valid_from ? answer.valid_from.slice(0, 10) : "—";
    const until = answer.valid_until ? answer.valid_until.slice(0, 10) : "không thời hạn / no end";
    addFact(
      facts,
      answer.kind === "offline" ? "Mã QR hiệu lực" : "Hiệu lực",
      answer.kind === "offline" ? "QR valid" : "Valid",
      `${from} → ${until}`,
    );
    addFact(facts, "Mức định danh", "Identification level", answer.holder_level ?? "—");
    addFact(facts, "Cách kiểm tra", "Checked", CHECKED[answer.kind] || CHECKED.online);
    for (const [name, value] of Object.entries(answer.fields)) {
      const label = answer.labels[name] || { vi: name, en: name };
      if (answer.portrait && name === answer.portrait) {
        showPortrait(photo, value, label);
        continue;
      }
      const row = document.createElement("tr");
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = `${label.vi} / ${label.en}`;
      const td = document.createElement("td");
      td.textContent = fieldText(value);
      row.append(th, td);
      body.append(row);
      table.hidden = false;
    }
  }
  $("verdict").hidden = false;
  banner.focus?.();
}

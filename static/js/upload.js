// Upload with a progress bar per file (bytes sent), then poll the worker's per-file results:
// anonymized / duplicate / rejected with reason / quarantined with reason.
//
// The teacher's own file names stay in this browser: a name may carry the patient's name, so the
// files are sent as "file-1", "file-2"… and the server reports results by position ("File 3",
// "File 3 (zip) › entry 12", also given as numbers). This script shows each result under the
// name of the File object at that position; for a zip it reads the archive's central directory
// (the last bytes of the file, never sent) and numbers the entries as the server does, skipping
// the same folders and system files. The names are kept in sessionStorage (this tab only) under
// the upload's id, so the results still carry them after the page reloads.
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  if (!form) return;
  const box = document.getElementById("upload-progress");
  const bar = document.getElementById("upload-bar");
  const summary = document.getElementById("upload-summary");
  const list = document.getElementById("upload-files");
  const input = form.querySelector("input[type=file]");
  const msgNode = document.getElementById("upload-messages");
  const messages = msgNode ? JSON.parse(msgNode.textContent) : {};
  const t = (key, fallback) => messages[key] || fallback;
  let rows = new Map(); // file number (1-based, as in the server's "File N" labels) → row
  let ownNames = {}; // file number → {name, entries: {entry number → zip member's name}}
  const STORE = "ta-upload-names:";

  // --- the zip's own entry names, read from its central directory in the browser ------------

  // The same entries the server skips (archive/services/intake.py, _is_junk_member).
  function isJunk(name) {
    const base = name.split("/").pop();
    return name.endsWith("/") || name.startsWith("__MACOSX/") ||
      [".DS_Store", "Thumbs.db", "DICOMDIR"].includes(base) || base.startsWith("._");
  }

  async function bytesOf(file, start, end) {
    return new DataView(await file.slice(start, end).arrayBuffer());
  }

  // Entry number (as the server counts) → name, or {} when the directory cannot be read (the
  // server then rejects the archive as damaged, or the results keep their neutral labels).
  async function zipEntryNames(file) {
    try {
      const tailStart = Math.max(0, file.size - 65557);
      const tail = await bytesOf(file, tailStart, file.size);
      let eocd = -1;
      for (let i = tail.byteLength - 22; i >= 0; i--) {
        if (tail.getUint32(i, true) === 0x06054b50) { eocd = i; break; }
      }
      if (eocd < 0) return {};
      let count = tail.getUint16(eocd + 10, true);
      let cdSize = tail.getUint32(eocd + 12, true);
      let cdOffset = tail.getUint32(eocd + 16, true);
      if (cdOffset === 0xffffffff || cdSize === 0xffffffff || count === 0xffff) {
        // Zip64: the locator just before the end record points to the Zip64 end record.
        const loc = eocd - 20;
        if (loc < 0 || tail.getUint32(loc, true) !== 0x07064b50) return {};
        const at = Number(tail.getBigUint64(loc + 8, true));
        const z = await bytesOf(file, at, at + 56);
        if (z.getUint32(0, true) !== 0x06064b50) return {};
        cdSize = Number(z.getBigUint64(40, true));
        cdOffset = Number(z.getBigUint64(48, true));
      }
      const dir = await bytesOf(file, cdOffset, cdOffset + cdSize);
      const utf8 = new TextDecoder("utf-8");
      const result = {};
      let number = 0;
      for (let p = 0; p + 46 <= dir.byteLength && dir.getUint32(p, true) === 0x02014b50;) {
        const nameLength = dir.getUint16(p + 28, true);
        const extra = dir.getUint16(p + 30, true);
        const comment = dir.getUint16(p + 32, true);
        const name = utf8.decode(new Uint8Array(dir.buffer, dir.byteOffset + p + 46, nameLength));
        if (!isJunk(name)) result[++number] = name;
        p += 46 + nameLength + extra + comment;
      }
      return result;
    } catch (_) {
      return {};
    }
  }

  async function isZip(file) {
    if (file.size < 4) return false;
    return (await bytesOf(file, 0, 4)).getUint32(0, true) === 0x04034b50;
  }

  async function namesOf(files) {
    const result = {};
    let i = 0;
    for (const file of files) {
      i += 1;
      result[i] = {name: file.name, entries: (await isZip(file)) ? await zipEntryNames(file) : {}};
    }
    return result;
  }

  function remember(uploadId, known) {
    try { sessionStorage.setItem(STORE + uploadId, JSON.stringify(known)); } catch (_) { /* full or off */ }
  }

  function recall(uploadId) {
    try { return JSON.parse(sessionStorage.getItem(STORE + uploadId) || "null"); } catch (_) { return null; }
  }

  // The teacher's name for a result, or null (then the server's neutral label is shown).
  function ownName(known, file, entry) {
    const own = known && known[file];
    if (!own) return null;
    if (!entry) return own.name;
    const member = own.entries && own.entries[entry];
    return `${own.name} › ${member || `${t("entry", "entry")} ${entry}`}`;
  }

  function size(n) {
    if (n < 1024) return `${n} B`;
    if (n < 1024 * 1024) return `${Math.round(n / 1024)} kB`;
    return `${(n / 1024 / 1024).toFixed(1)} MB`;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function makeRow(number, bytes) {
    const li = el("li", "upload-file item-pending");
    const label = ownName(ownNames, number, 0) || `${t("file", "File")} ${number}`;
    const progress = el("progress");
    progress.max = Math.max(bytes || 1, 1);
    progress.value = 0;
    progress.setAttribute("aria-label", label);
    const state = el("span", "item-status badge-pending", t("waiting", "Waiting"));
    const reason = el("span", "item-reason");
    const entries = el("ul", "zip-entries");
    entries.hidden = true;
    li.append(el("span", "item-label", label), el("span", "item-size", bytes ? size(bytes) : ""),
      progress, state, reason, entries);
    list.append(li);
    return {li, progress, state, reason, entries, bytes: bytes || 0, start: 0};
  }

  function buildRowsFromFiles(files) {
    list.replaceChildren();
    rows = new Map();
    let offset = 0;
    Array.from(files).forEach((file, i) => {
      const row = makeRow(i + 1, file.size);
      row.start = offset;
      offset += file.size;
      rows.set(i + 1, row);
    });
    return offset;
  }

  function showBytes(loadedFileBytes) {
    for (const row of rows.values()) {
      row.progress.value = Math.min(Math.max(loadedFileBytes - row.start, 0), row.bytes);
    }
  }

  function setState(row, status, text, reason) {
    row.li.className = `upload-file item-${status}`;
    row.state.className = `item-status badge-${status}`;
    row.state.textContent = text;
    row.reason.textContent = reason || "";
    if (status !== "pending") row.progress.value = row.progress.max;
  }

  function render(status) {
    const c = status.counts;
    const settled = c.total - c.pending;
    bar.max = Math.max(c.total, 1);
    bar.value = settled;
    const names = {};
    status.items.forEach((item) => { names[item.status] = item.status_display; });
    const parts = Object.keys(names).filter((s) => s !== "pending" && c[s]).map((s) => `${c[s]} × ${names[s]}`);
    summary.textContent = `${settled} / ${c.total} ${t("processed", "processed")}` + (parts.length ? ` — ${parts.join(", ")}` : "");
    // Group the items by the file they came from ("File 3", "File 3 (zip) › entry 12").
    const groups = new Map();
    status.items.forEach((item) => {
      const number = item.file || 0;
      if (!groups.has(number)) groups.set(number, []);
      groups.get(number).push(item);
    });
    for (const [number, items] of groups) {
      let row = rows.get(number);
      if (!row) { row = makeRow(number, 0); rows.set(number, row); }
      if (items.length === 1 && !/›/.test(items[0].label)) {
        const item = items[0];
        setState(row, item.status, item.status_display, item.reason);
        continue;
      }
      // A zip: one line per entry that needs the teacher's attention, counts for the rest.
      const pending = items.filter((i) => i.status === "pending").length;
      const bad = items.filter((i) => i.status === "rejected" || i.status === "quarantined");
      const worst = pending ? "pending" : bad.length ? bad[0].status : items[0].status;
      const counts = {};
      items.forEach((i) => { counts[i.status_display] = (counts[i.status_display] || 0) + 1; });
      setState(row, worst, Object.entries(counts).map(([k, n]) => `${n} × ${k}`).join(", "), "");
      row.entries.hidden = bad.length === 0;
      row.entries.replaceChildren(...bad.map((i) => {
        const label = ownName(ownNames, i.file, i.entry) || i.label;
        const li = el("li", `item-${i.status}`, `${label} — ${i.status_display}` + (i.reason ? `: ${i.reason}` : ""));
        return li;
      }));
    }
  }

  function poll(url) {
    fetch(url, {headers: {Accept: "application/json"}, credentials: "same-origin"})
      .then((r) => { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then((status) => {
        render(status);
        if (status.status === "done") {
          summary.textContent += ` — ${t("done", "Finished.")}`;
          setTimeout(() => location.reload(), 1200);
        } else setTimeout(() => poll(url), 1000);
      })
      .catch(() => setTimeout(() => poll(url), 2000));
  }

  // What the server would refuse as a whole is refused here, before a byte is sent, with the
  // server's own sentences (a refused request's connection may be reset mid-way).
  function refusal(files) {
    const limits = input.dataset;
    if (limits.maxFiles && files.length > Number(limits.maxFiles)) return limits.tooMany;
    // Each file adds its multipart headers to the body.
    const body = Array.from(files).reduce((n, f) => n + f.size + 512, 1024);
    if (limits.maxRequestBytes && body > Number(limits.maxRequestBytes)) return limits.tooLarge;
    return "";
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!input.files.length) { input.focus(); return; }
    const files = Array.from(input.files);
    const refused = refusal(input.files);
    if (refused) {
      box.hidden = false;
      list.replaceChildren();
      summary.textContent = `${t("failed", "The upload failed:")} ${refused}`;
      return;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    ownNames = await namesOf(files);
    const fileBytes = buildRowsFromFiles(files);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    // In a header, the CSRF token is checked even when the server refuses the body unread.
    const token = form.querySelector("input[name=csrfmiddlewaretoken]");
    if (token) xhr.setRequestHeader("X-CSRFToken", token.value);
    box.hidden = false;
    summary.textContent = t("sending", "Sending…");
    xhr.upload.addEventListener("progress", (ev) => {
      if (!ev.lengthComputable) return;
      bar.max = ev.total;
      bar.value = ev.loaded;
      // The multipart body is the files in order plus a little framing: scale to file bytes.
      showBytes(ev.loaded * (fileBytes / Math.max(ev.total, 1)));
    });
    xhr.addEventListener("load", () => {
      button.disabled = false;
      if (xhr.status === 201) {
        const status = JSON.parse(xhr.responseText);
        remember(status.id, ownNames);
        showBytes(fileBytes);
        summary.textContent = t("sent", "Sent.");
        render(status);
        poll(status.status_url);
      } else {
        let error = String(xhr.status);
        try { error = JSON.parse(xhr.responseText).error || error; } catch (_) { /* an HTML error page */ }
        summary.textContent = `${t("failed", "The upload failed:")} ${error}`;
      }
    });
    xhr.addEventListener("error", () => {
      button.disabled = false;
      summary.textContent = `${t("failed", "The upload failed:")} ${t("network", "network error. Try again.")}`;
    });
    // Every field of the form, then the files under neutral names: the browser would otherwise
    // send each file's own name in its part's Content-Disposition.
    const body = new FormData();
    for (const [key, value] of new FormData(form)) if (key !== input.name) body.append(key, value);
    files.forEach((file, i) => body.append(input.name, file, `file-${i + 1}`));
    xhr.send(body);
  });

  // Earlier uploads of this tab, listed by the server with neutral labels: their own names.
  document.querySelectorAll("details.upload[data-upload-id]").forEach((details) => {
    const known = recall(details.dataset.uploadId);
    if (!known) return;
    details.querySelectorAll(".item-label[data-file]").forEach((span) => {
      const name = ownName(known, Number(span.dataset.file), Number(span.dataset.entry || 0));
      if (name) { span.title = span.textContent; span.textContent = name; }
    });
  });

  // Resume polling an upload that is still being processed when the page is opened.
  const running = document.querySelector('details.upload[data-status="pending"], details.upload[data-status="processing"]');
  if (running) {
    ownNames = recall(running.dataset.uploadId) || {};
    box.hidden = false;
    poll(running.dataset.statusUrl);
  }
})();

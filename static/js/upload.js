// Upload with a progress bar per file (bytes sent), then poll the worker's per-file results:
// anonymized / duplicate / rejected with reason / quarantined with reason.
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
    // Neutral labels only: a file's own name may carry the patient's name.
    const li = el("li", "upload-file item-pending");
    const label = `${t("file", "File")} ${number}`;
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
      const match = /(\d+)/.exec(item.label);
      const number = match ? Number(match[1]) : 0;
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
        const li = el("li", `item-${i.status}`, `${i.label} — ${i.status_display}` + (i.reason ? `: ${i.reason}` : ""));
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

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!input.files.length) { input.focus(); return; }
    const refused = refusal(input.files);
    if (refused) {
      box.hidden = false;
      list.replaceChildren();
      summary.textContent = `${t("failed", "The upload failed:")} ${refused}`;
      return;
    }
    const fileBytes = buildRowsFromFiles(input.files);
    const button = form.querySelector("button[type=submit]");
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    // In a header, the CSRF token is checked even when the server refuses the body unread.
    const token = form.querySelector("input[name=csrfmiddlewaretoken]");
    if (token) xhr.setRequestHeader("X-CSRFToken", token.value);
    box.hidden = false;
    summary.textContent = t("sending", "Sending…");
    button.disabled = true;
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
    xhr.send(new FormData(form));
  });

  // Resume polling an upload that is still being processed when the page is opened.
  const running = document.querySelector('details.upload[data-status="pending"], details.upload[data-status="processing"]');
  if (running) { box.hidden = false; poll(running.dataset.statusUrl); }
})();

// Upload with a progress bar (bytes sent), then poll the worker's per-file results.
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  if (!form) return;
  const box = document.getElementById("upload-progress");
  const bar = document.getElementById("upload-bar");
  const summary = document.getElementById("upload-summary");
  const list = document.getElementById("upload-items");

  function render(status) {
    const c = status.counts;
    const settled = c.total - c.pending;
    bar.max = Math.max(c.total, 1);
    bar.value = settled;
    summary.textContent = `${settled} / ${c.total} processed — ${c.anonymized} anonymized, ` +
      `${c.rejected} rejected, ${c.quarantined} quarantined` + (c.duplicate ? `, ${c.duplicate} duplicates` : "");
    list.replaceChildren(...status.items.map((item) => {
      const li = document.createElement("li");
      li.className = `item-${item.status}`;
      li.textContent = `${item.label} — ${item.status_display}` + (item.reason ? `: ${item.reason}` : "");
      return li;
    }));
  }
  function poll(url) {
    fetch(url, {headers: {Accept: "application/json"}, credentials: "same-origin"})
      .then((r) => r.json())
      .then((status) => {
        render(status);
        if (status.status === "done") { summary.textContent += " — done."; setTimeout(() => location.reload(), 800); }
        else setTimeout(() => poll(url), 1000);
      })
      .catch(() => setTimeout(() => poll(url), 2000));
  }
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    box.hidden = false;
    summary.textContent = "Sending…";
    xhr.upload.addEventListener("progress", (ev) => {
      if (ev.lengthComputable) { bar.max = ev.total; bar.value = ev.loaded; }
    });
    xhr.addEventListener("load", () => {
      if (xhr.status === 201) { const status = JSON.parse(xhr.responseText); render(status); poll(status.status_url); }
      else { summary.textContent = "The upload failed: " + (JSON.parse(xhr.responseText || "{}").error || xhr.status); }
    });
    xhr.addEventListener("error", () => { summary.textContent = "The upload failed: network error. Try again."; });
    xhr.send(new FormData(form));
  });
  // Resume polling an upload that is still being processed when the page is opened.
  const running = document.querySelector('details.upload[data-status="pending"], details.upload[data-status="processing"]');
  if (running) { box.hidden = false; poll(running.dataset.statusUrl); }
})();

// Case editor, teacher review of the redaction: drag a box on a series preview (mouse, touch or
// pen; the x/y/width/height fields are the keyboard way and show the same box), "Apply to this
// series" → the server redacts the series again from the kept originals → progress → the preview
// is fetched again, showing the blanked area. Works without JS as plain form posts.
(function () {
  "use strict";
  const msgNode = document.getElementById("review-messages");
  const messages = msgNode ? JSON.parse(msgNode.textContent) : {};
  const t = (key, fallback) => messages[key] || fallback;
  const finish = document.querySelector("form.finish-review-form");
  if (finish) {
    finish.addEventListener("submit", (e) => {
      if (!window.confirm(t("finish", "Delete the original files now?"))) e.preventDefault();
    });
  }
  const container = document.querySelector(".series-thumbs");
  if (!container) return;
  const SVG = "http://www.w3.org/2000/svg";
  const MIN_SIDE = 2; // image pixels: a click is not a box

  function figureOf(node) { return node.closest("figure[data-review]"); }

  // The drawing surface: the preview's outline layer (created when nothing is outlined yet),
  // in image pixels (viewBox), so what is drawn is what the server blanks.
  function makeDrawable(figure) {
    const frame = figure.querySelector(".thumb-frame[data-columns]");
    if (!frame) return;
    let svg = frame.querySelector("svg.redactions");
    if (!svg) {
      svg = document.createElementNS(SVG, "svg");
      svg.setAttribute("class", "redactions");
      svg.setAttribute("viewBox", `0 0 ${frame.dataset.columns} ${frame.dataset.rows}`);
      svg.setAttribute("role", "img");
      frame.append(svg);
    }
    svg.setAttribute("data-drawable", "");
    svg.setAttribute("aria-label", frame.dataset.drawLabel);
  }

  function size(svg) {
    const vb = svg.viewBox.baseVal;
    return {w: vb.width, h: vb.height};
  }

  function toImage(svg, event) {
    // Screen → image pixels, through the same letterboxing the SVG uses.
    const pt = svg.createSVGPoint();
    pt.x = event.clientX;
    pt.y = event.clientY;
    const p = pt.matrixTransform(svg.getScreenCTM().inverse());
    const {w, h} = size(svg);
    return {x: Math.min(Math.max(p.x, 0), w), y: Math.min(Math.max(p.y, 0), h)};
  }

  function pendingRect(svg) {
    let rect = svg.querySelector("rect.pending");
    if (!rect) {
      rect = document.createElementNS(SVG, "rect");
      rect.setAttribute("class", "pending");
      rect.setAttribute("vector-effect", "non-scaling-stroke");
      svg.append(rect);
    }
    return rect;
  }

  function fields(figure) {
    const form = figure.querySelector("form.box-form");
    if (!form) return null;
    return {form, x: form.elements.x, y: form.elements.y, width: form.elements.width, height: form.elements.height};
  }

  function showBox(figure, box) {
    const svg = figure.querySelector("svg[data-drawable]");
    if (!svg) return;
    if (!box || box.width < 1 || box.height < 1) {
      const old = svg.querySelector("rect.pending");
      if (old) old.remove();
      return;
    }
    const rect = pendingRect(svg);
    rect.setAttribute("x", box.x);
    rect.setAttribute("y", box.y);
    rect.setAttribute("width", box.width);
    rect.setAttribute("height", box.height);
  }

  function setFields(figure, box) {
    const f = fields(figure);
    if (!f) return;
    f.x.value = Math.round(box.x);
    f.y.value = Math.round(box.y);
    f.width.value = Math.max(1, Math.round(box.width));
    f.height.value = Math.max(1, Math.round(box.height));
  }

  function boxFromFields(figure) {
    const f = fields(figure);
    if (!f) return null;
    const v = ["x", "y", "width", "height"].map((k) => parseFloat(f[k].value));
    if (v.some((n) => !Number.isFinite(n))) return null;
    return {x: v[0], y: v[1], width: v[2], height: v[3]};
  }

  // --- Drawing ------------------------------------------------------------------------------
  let drag = null;

  container.addEventListener("pointerdown", (e) => {
    const svg = e.target.closest("svg[data-drawable]");
    if (!svg || e.button > 0) return;
    e.preventDefault();
    svg.setPointerCapture(e.pointerId);
    const start = toImage(svg, e);
    drag = {svg, figure: figureOf(svg), start, pointer: e.pointerId};
    showBox(drag.figure, {x: start.x, y: start.y, width: 0, height: 0});
  });

  container.addEventListener("pointermove", (e) => {
    if (!drag || e.pointerId !== drag.pointer) return;
    const p = toImage(drag.svg, e);
    const box = {
      x: Math.min(p.x, drag.start.x), y: Math.min(p.y, drag.start.y),
      width: Math.abs(p.x - drag.start.x), height: Math.abs(p.y - drag.start.y),
    };
    drag.box = box;
    showBox(drag.figure, box);
  });

  function endDrag(e) {
    if (!drag || e.pointerId !== drag.pointer) return;
    const {figure, box} = drag;
    drag = null;
    if (!box || box.width < MIN_SIDE || box.height < MIN_SIDE) {
      showBox(figure, boxFromFields(figure));
      return;
    }
    // Whole pixels, rounded outwards, as the server applies them.
    const x0 = Math.floor(box.x), y0 = Math.floor(box.y);
    const snapped = {x: x0, y: y0, width: Math.ceil(box.x + box.width) - x0, height: Math.ceil(box.y + box.height) - y0};
    setFields(figure, snapped);
    showBox(figure, snapped);
    setStatus(figure, "");
  }
  container.addEventListener("pointerup", endDrag);
  container.addEventListener("pointercancel", endDrag);

  container.addEventListener("input", (e) => {
    const form = e.target.closest("form.box-form");
    if (form) showBox(figureOf(form), boxFromFields(figureOf(form)));
  });

  // --- Applying and progress ------------------------------------------------------------------
  function setStatus(figure, text, isError) {
    const node = figure.querySelector(".review-status");
    if (!node) return;
    node.textContent = text;
    node.classList.toggle("review-error", Boolean(isError));
  }

  function showProgress(figure, status) {
    const bar = figure.querySelector(".review-progress");
    if (bar) {
      bar.hidden = false;
      bar.max = Math.max(status.editable, 1);
      bar.value = status.done + status.failed;
    }
    setStatus(figure, `${t("applying", "Applying…")} ${status.done + status.failed} / ${status.editable} ${t("progress", "images redacted")}`);
  }

  async function refresh(figure, status) {
    const r = await fetch(status.preview_url, {credentials: "same-origin"});
    if (!r.ok) throw new Error(String(r.status));
    const holder = document.createElement("div");
    holder.innerHTML = (await r.text()).trim();
    const fresh = holder.querySelector("figure");
    figure.replaceWith(fresh);
    makeDrawable(fresh);
    const img = fresh.querySelector("img");
    if (img) img.loading = "eager";
    setStatus(fresh, status.state === "failed" ? t("failed", "Some images failed.") : t("done", "Done."), status.state === "failed");
    return fresh;
  }

  function poll(figure, url) {
    figure.setAttribute("aria-busy", "true");
    let wait = 600;
    const step = async () => {
      let status;
      try {
        const r = await fetch(url, {headers: {Accept: "application/json"}, credentials: "same-origin"});
        if (!r.ok) throw new Error(String(r.status));
        status = await r.json();
      } catch (err) {
        setStatus(figure, t("network", "Network error. Try again."), true);
        figure.removeAttribute("aria-busy");
        return;
      }
      if (status.state === "running") {
        showProgress(figure, status);
        wait = Math.min(wait * 1.25, 5000); // a long series: ask less often
        setTimeout(step, wait);
        return;
      }
      try {
        await refresh(figure, status);
      } catch (err) {
        setStatus(figure, t("network", "Network error. Try again."), true);
        figure.removeAttribute("aria-busy");
      }
    };
    step();
  }

  async function post(form) {
    const figure = figureOf(form);
    const buttons = form.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const r = await fetch(form.action, {
        method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: {Accept: "application/json"},
      });
      const body = await r.json().catch(() => ({}));
      if (!r.ok) {
        setStatus(figure, body.error || t("network", "Network error. Try again."), true);
        buttons.forEach((b) => { b.disabled = false; });
        return;
      }
      showProgress(figure, body);
      poll(figure, body.status_url);
    } catch (err) {
      setStatus(figure, t("network", "Network error. Try again."), true);
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  container.addEventListener("submit", (e) => {
    const form = e.target.closest("form.box-form, form.remove-box");
    if (!form) return;
    e.preventDefault();
    post(form);
  });

  container.querySelectorAll("figure[data-review]").forEach(makeDrawable);
  // A reload while a redaction is running picks the progress up again.
  container.querySelectorAll("figure[data-review=running]").forEach((figure) => {
    poll(figure, figure.dataset.statusUrl);
  });
})();

// Full-size review of the redaction of one series (templates/archive/series_review.html).
// The frame is shown at full resolution with every automatic box outlined (its reason in a
// tooltip and in the list); zoom (wheel, +/-, buttons) and pan (pan tool, shift+drag, middle
// button); scroll images and frames (select, slider, arrow keys, PageUp/PageDown). The teacher
// removes a wrong automatic box (the area is restored from the original), draws a missed one,
// and applies to the frame, the image or the series; the server redacts again from the kept
// originals, this script polls until done and shows the result. No inline script or style
// (CSP): data comes from <script type="application/json">, positions are set through the DOM.
(function () {
  "use strict";
  const root = document.getElementById("full-review");
  const dataNode = document.getElementById("review-data");
  if (!root || !dataNode) return;
  let data = JSON.parse(dataNode.textContent);
  const T = data.text || {};
  const t = (key, fallback) => T[key] || fallback;
  const SVG = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);
  const stage = $("review-stage"), canvas = $("review-canvas"), img = $("review-image");
  const overlay = $("review-overlay"), imageSelect = $("review-image-select");
  const frameInput = $("review-frame"), frameReadout = $("review-frame-readout");
  const autoList = $("auto-list"), teacherList = $("teacher-list"), status = $("review-status");
  const form = $("review-form"), zoomReadout = $("zoom-readout");
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const MIN_SIDE = 2;

  const state = {image: 0, frame: 0, scale: 1, panX: 0, panY: 0, tool: "draw", selected: null};

  function current() { return data.images[state.image]; }

  // --- Image and geometry ---------------------------------------------------------------------
  function applyTransform() {
    canvas.style.transform = `translate(${state.panX}px, ${state.panY}px) scale(${state.scale})`;
    zoomReadout.textContent = `${Math.round(state.scale * 100)} %`;
  }

  function fit() {
    const im = current();
    if (!im) return;
    const w = stage.clientWidth, h = stage.clientHeight;
    state.scale = Math.min(w / im.columns, h / im.rows, 4);
    state.panX = (w - im.columns * state.scale) / 2;
    state.panY = (h - im.rows * state.scale) / 2;
    applyTransform();
  }

  function zoomAt(factor, cx, cy) {
    const next = Math.min(Math.max(state.scale * factor, 0.05), 32);
    const k = next / state.scale;
    state.panX = cx - (cx - state.panX) * k;
    state.panY = cy - (cy - state.panY) * k;
    state.scale = next;
    applyTransform();
  }

  function showImage(keepView) {
    const im = current();
    if (!im) return;
    img.width = im.columns;
    img.height = im.rows;
    overlay.setAttribute("viewBox", `0 0 ${im.columns} ${im.rows}`);
    overlay.setAttribute("width", im.columns);
    overlay.setAttribute("height", im.rows);
    img.src = `${im.frame_url}${state.frame}.png?v=${im.revision}`;
    frameInput.max = String(im.frames - 1);
    frameInput.value = String(state.frame);
    frameInput.disabled = im.frames < 2;
    frameReadout.textContent = `${state.frame + 1} / ${im.frames}`;
    root.querySelector("input[name=instance]").value = im.id;
    root.querySelector("input[name=frame]").value = state.frame;
    if (!keepView) fit();
    renderBoxes();
  }

  function fillImageSelect() {
    imageSelect.textContent = "";
    data.images.forEach((im, i) => {
      const option = document.createElement("option");
      option.value = String(i);
      option.textContent = `${t("image", "Image")} ${im.number ?? i + 1}` +
        (im.frames > 1 ? ` (${im.frames})` : "");
      imageSelect.append(option);
    });
    imageSelect.value = String(state.image);
  }

  // --- Boxes ---------------------------------------------------------------------------------
  function rect(cls, x0, y0, x1, y1, title) {
    const r = document.createElementNS(SVG, "rect");
    r.setAttribute("class", cls);
    r.setAttribute("x", x0);
    r.setAttribute("y", y0);
    r.setAttribute("width", Math.max(x1 - x0, 0.5));
    r.setAttribute("height", Math.max(y1 - y0, 0.5));
    r.setAttribute("vector-effect", "non-scaling-stroke");
    if (title) {
      const tt = document.createElementNS(SVG, "title");
      tt.textContent = title;
      r.append(tt);
    }
    overlay.append(r);
    return r;
  }

  function applies(box, im, frame) {
    if (box.instance !== null && box.instance !== im.id) return false;
    return box.frame === null || box.frame === frame;
  }

  function pixels(box, im) {
    const [x0, y0, x1, y1] = box.box;
    return [Math.floor(x0 * im.columns), Math.floor(y0 * im.rows),
      Math.ceil(x1 * im.columns), Math.ceil(y1 * im.rows)];
  }

  function scopeText(box) {
    if (box.instance === null) return t("scope_series", "every image of the series");
    if (box.frame === null) return t("scope_image", "every frame of this image");
    return `${t("scope_frame", "this frame")} (${box.frame + 1})`;
  }

  function renderBoxes() {
    const im = current();
    overlay.textContent = "";
    autoList.textContent = "";
    teacherList.textContent = "";
    const open = data.open;
    const autos = im.automatic.filter((b) => b.frame === state.frame);
    autos.forEach((b, i) => {
      const [x0, y0, x1, y1] = b.box;
      const label = `${t("automatic", "Automatic")}: ${b.reason}` +
        (b.removed ? ` (${t("removed", "removed")})` : "");
      const r = rect(b.removed ? "auto removed" : "auto", x0, y0, x1, y1, label);
      r.dataset.auto = String(i);
      const li = document.createElement("li");
      li.dataset.auto = String(i);
      const text = document.createElement("span");
      text.textContent = `${b.reason} · ${x0},${y0} ${x1 - x0}×${y1 - y0}` +
        (b.removed ? ` · ${t("removed", "removed")}` : "");
      li.append(text);
      if (open && !b.removed) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "link remove-auto";
        button.textContent = t("remove", "Remove (not text)");
        button.addEventListener("click", () => removeAutomatic(b));
        li.append(" ", button);
      }
      li.addEventListener("mouseenter", () => select(i));
      li.addEventListener("focusin", () => select(i));
      autoList.append(li);
    });
    if (!autos.length) {
      const li = document.createElement("li");
      li.textContent = t("none", "No automatic box on this frame.");
      autoList.append(li);
    }
    data.boxes.forEach((b) => {
      const [x0, y0, x1, y1] = pixels(b, im);
      const who = `${b.action === "keep" ? t("keep", "Kept by") : t("blank", "Blanked by")} ${b.by}`;
      if (applies(b, im, state.frame)) {
        rect(b.action === "keep" ? "teacher-keep" : "teacher-box", x0, y0, x1, y1, who);
      }
      const li = document.createElement("li");
      li.textContent = `${who} · ${scopeText(b)} · ${x0},${y0} ${x1 - x0}×${y1 - y0}`;
      if (open) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "link undo-box";
        button.textContent = t("undo", "Undo");
        button.addEventListener("click", () => undo(b));
        li.append(" ", button);
      }
      teacherList.append(li);
    });
    select(state.selected);
  }

  function select(index) {
    state.selected = index;
    overlay.querySelectorAll("rect.selected").forEach((r) => r.classList.remove("selected"));
    autoList.querySelectorAll("li.selected").forEach((r) => r.classList.remove("selected"));
    if (index === null || index === undefined) return;
    const r = overlay.querySelector(`rect[data-auto="${index}"]`);
    const li = autoList.querySelector(`li[data-auto="${index}"]`);
    if (r) r.classList.add("selected");
    if (li) li.classList.add("selected");
  }

  // --- Drawing and panning -------------------------------------------------------------------
  function toImage(event) {
    const pt = overlay.createSVGPoint();
    pt.x = event.clientX;
    pt.y = event.clientY;
    const p = pt.matrixTransform(overlay.getScreenCTM().inverse());
    const im = current();
    return {x: Math.min(Math.max(p.x, 0), im.columns), y: Math.min(Math.max(p.y, 0), im.rows)};
  }

  function pending() {
    let r = overlay.querySelector("rect.pending");
    if (!r) r = rect("pending", 0, 0, 0, 0);
    return r;
  }

  function showPending(box) {
    const r = pending();
    r.setAttribute("x", box.x);
    r.setAttribute("y", box.y);
    r.setAttribute("width", box.width);
    r.setAttribute("height", box.height);
  }

  let drag = null;
  stage.addEventListener("pointerdown", (e) => {
    if (e.button > 1) return;
    const panning = state.tool === "pan" || e.shiftKey || e.button === 1;
    e.preventDefault();
    stage.setPointerCapture(e.pointerId);
    stage.focus({preventScroll: true});
    if (panning) {
      drag = {pan: true, x: e.clientX, y: e.clientY, panX: state.panX, panY: state.panY, id: e.pointerId};
    } else if (data.open) {
      drag = {pan: false, start: toImage(e), id: e.pointerId};
    }
  });
  stage.addEventListener("pointermove", (e) => {
    if (!drag || e.pointerId !== drag.id) return;
    if (drag.pan) {
      state.panX = drag.panX + e.clientX - drag.x;
      state.panY = drag.panY + e.clientY - drag.y;
      applyTransform();
      return;
    }
    const p = toImage(e);
    drag.box = {
      x: Math.min(p.x, drag.start.x), y: Math.min(p.y, drag.start.y),
      width: Math.abs(p.x - drag.start.x), height: Math.abs(p.y - drag.start.y),
    };
    showPending(drag.box);
  });
  function endDrag(e) {
    if (!drag || e.pointerId !== drag.id) return;
    const box = drag.box;
    const wasPan = drag.pan;
    drag = null;
    if (wasPan || !box || box.width < MIN_SIDE || box.height < MIN_SIDE) return;
    const x0 = Math.floor(box.x), y0 = Math.floor(box.y);
    const snapped = {x: x0, y: y0, width: Math.ceil(box.x + box.width) - x0, height: Math.ceil(box.y + box.height) - y0};
    form.elements.x.value = snapped.x;
    form.elements.y.value = snapped.y;
    form.elements.width.value = snapped.width;
    form.elements.height.value = snapped.height;
    showPending(snapped);
    setStatus("");
  }
  stage.addEventListener("pointerup", endDrag);
  stage.addEventListener("pointercancel", endDrag);
  stage.addEventListener("wheel", (e) => {
    e.preventDefault();
    const bounds = stage.getBoundingClientRect();
    zoomAt(e.deltaY < 0 ? 1.2 : 1 / 1.2, e.clientX - bounds.left, e.clientY - bounds.top);
  }, {passive: false});

  form.addEventListener("input", () => {
    const v = ["x", "y", "width", "height"].map((k) => parseFloat(form.elements[k].value));
    if (v.every(Number.isFinite) && v[2] >= 1 && v[3] >= 1) {
      showPending({x: v[0], y: v[1], width: v[2], height: v[3]});
    }
  });

  root.querySelectorAll("[data-tool]").forEach((button) => {
    button.addEventListener("click", () => {
      state.tool = button.dataset.tool;
      root.querySelectorAll("[data-tool]").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
      stage.classList.toggle("panning", state.tool === "pan");
    });
  });
  root.querySelectorAll("[data-zoom]").forEach((button) => {
    button.addEventListener("click", () => {
      const w = stage.clientWidth / 2, h = stage.clientHeight / 2;
      const how = button.dataset.zoom;
      if (how === "in") zoomAt(1.5, w, h);
      else if (how === "out") zoomAt(1 / 1.5, w, h);
      else if (how === "fit") fit();
      else zoomAt(1 / state.scale, w, h);
    });
  });

  function goFrame(frame) {
    const im = current();
    state.frame = Math.min(Math.max(frame, 0), im.frames - 1);
    state.selected = null;
    showImage(true);
  }
  function goImage(index) {
    state.image = Math.min(Math.max(index, 0), data.images.length - 1);
    state.frame = 0;
    state.selected = null;
    imageSelect.value = String(state.image);
    defaultScope();
    showImage(false);
  }
  frameInput.addEventListener("input", () => goFrame(parseInt(frameInput.value, 10) || 0));
  imageSelect.addEventListener("change", () => goImage(parseInt(imageSelect.value, 10) || 0));
  stage.addEventListener("keydown", (e) => {
    if (e.key === "ArrowRight" || e.key === "ArrowDown") goFrame(state.frame + 1);
    else if (e.key === "ArrowLeft" || e.key === "ArrowUp") goFrame(state.frame - 1);
    else if (e.key === "PageDown") goImage(state.image + 1);
    else if (e.key === "PageUp") goImage(state.image - 1);
    else if (e.key === "+" || e.key === "=") zoomAt(1.5, stage.clientWidth / 2, stage.clientHeight / 2);
    else if (e.key === "-") zoomAt(1 / 1.5, stage.clientWidth / 2, stage.clientHeight / 2);
    else return;
    e.preventDefault();
  });

  function defaultScope() {
    // A wrong box on a cine is usually wrong on every frame; on a series of slices, on one.
    const im = current();
    const scope = im && im.frames > 1 ? "image" : "frame";
    const radio = form.querySelector(`input[name=scope][value=${scope}]`);
    if (radio) radio.checked = true;
  }

  // --- Applying --------------------------------------------------------------------------------
  function setStatus(text, isError) {
    status.textContent = text;
    status.classList.toggle("review-error", Boolean(isError));
  }

  function scope() {
    const checked = form.querySelector("input[name=scope]:checked");
    return checked ? checked.value : "frame";
  }

  async function send(url, body) {
    body.append("csrfmiddlewaretoken", csrf);
    setStatus(t("applying", "Applying…"));
    root.setAttribute("aria-busy", "true");
    try {
      const r = await fetch(url, {
        method: "POST", body, credentials: "same-origin", headers: {Accept: "application/json"},
      });
      const answer = await r.json().catch(() => ({}));
      if (!r.ok) {
        setStatus(answer.error || t("network", "Network error. Try again."), true);
        root.removeAttribute("aria-busy");
        return;
      }
      poll(answer.status_url);
    } catch (err) {
      setStatus(t("network", "Network error. Try again."), true);
      root.removeAttribute("aria-busy");
    }
  }

  function poll(url) {
    let wait = 400;
    const step = async () => {
      try {
        const r = await fetch(url, {headers: {Accept: "application/json"}, credentials: "same-origin"});
        if (!r.ok) throw new Error(String(r.status));
        const answer = await r.json();
        if (answer.state === "running") {
          setStatus(`${t("applying", "Applying…")} ${answer.done + answer.failed} / ${answer.editable}`);
          wait = Math.min(wait * 1.25, 4000);
          setTimeout(step, wait);
          return;
        }
        await reload();
        setStatus(answer.state === "failed" ? t("failed", "Some images failed.") : t("done", "Done."),
          answer.state === "failed");
      } catch (err) {
        setStatus(t("network", "Network error. Try again."), true);
      }
      root.removeAttribute("aria-busy");
    };
    step();
  }

  async function reload() {
    const r = await fetch(data.urls.status, {headers: {Accept: "application/json"}, credentials: "same-origin"});
    if (!r.ok) throw new Error(String(r.status));
    const fresh = await r.json();
    fresh.urls = data.urls;
    fresh.text = data.text;
    data = fresh;
    root.dataset.open = String(data.open);
    const old = overlay.querySelector("rect.pending");
    if (old) old.remove();
    form.reset();
    defaultScope();
    showImage(true);
  }

  function boxBody(action, box) {
    const body = new FormData();
    const [x0, y0, x1, y1] = box;
    body.append("x", x0);
    body.append("y", y0);
    body.append("width", x1 - x0);
    body.append("height", y1 - y0);
    body.append("action", action);
    body.append("instance", current().id);
    body.append("frame", state.frame);
    body.append("scope", scope());
    return body;
  }

  function removeAutomatic(box) {
    send(data.urls.add, boxBody("keep", box.box));
  }

  function undo(box) {
    send(data.urls.delete.replace(/\/0\/delete$/, `/${box.id}/delete`), new FormData());
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const v = ["x", "y", "width", "height"].map((k) => parseFloat(form.elements[k].value));
    if (!v.every(Number.isFinite) || v[2] < 1 || v[3] < 1) {
      setStatus(t("draw", "Draw a box first."), true);
      return;
    }
    send(data.urls.add, boxBody("blank", [v[0], v[1], v[0] + v[2], v[1] + v[3]]));
  });

  // --- Start --------------------------------------------------------------------------------
  if (!data.images.length) return;
  fillImageSelect();
  defaultScope();
  img.addEventListener("load", () => root.classList.add("loaded"));
  window.addEventListener("resize", () => fit());
  showImage(false);
  if (data.state === "running") poll(data.status_url);
})();

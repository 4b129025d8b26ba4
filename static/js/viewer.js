// Stack viewer. Frames are rendered by the server (PNG, cached, ETag); this script only picks
// which URL to show: frame, preset or custom window (?wc=&ww=), and draws key-image annotations
// as an SVG overlay. Scroll: wheel, arrow keys, slider, swipe (scroll tool). Window/level: drag
// (contrast tool) or presets. Zoom: ctrl+wheel, +/- keys, buttons, pinch. Pan: pan tool,
// shift+drag, middle button or two fingers. Cine: space or the play button.
(function () {
  "use strict";
  const dataEl = document.getElementById("viewer-data");
  const img = document.getElementById("viewer-image");
  if (!dataEl || !img) return;
  const data = JSON.parse(dataEl.textContent);
  const $ = (id) => document.getElementById(id);
  const viewer = $("viewer"), stage = $("viewer-stage"), canvas = $("viewer-canvas");
  const overlay = $("viewer-overlay"), slider = $("frame-slider"), counter = $("frame-counter");
  const seriesSelect = $("series-select"), presetSelect = $("preset-select");
  const readout = $("wl-readout"), playButton = $("cine-play"), fpsInput = $("cine-fps");
  const keyStrip = $("key-strip"), status = $("viewer-status");
  const SVG = "http://www.w3.org/2000/svg";
  const WL_DEBOUNCE_MS = 120;
  const T = data.text || {};
  function t(key, fallback, values) {
    let text = T[key] || fallback;
    for (const [k, v] of Object.entries(values || {})) text = text.replace(`%(${k})s`, v);
    return text;
  }

  const state = {
    series: 0, position: 0, frames: [],
    window: null,          // custom {c, w} while the user drags; null = preset
    scale: 1, panX: 0, panY: 0,
    tool: window.matchMedia && window.matchMedia("(pointer: coarse)").matches ? "scroll" : "wl",
    playing: false, timer: null,
    draft: [],             // annotations being drawn by an editor
  };

  // --- Frames and URLs ----------------------------------------------------------------------
  function frameList(s) {
    const out = [];
    for (const image of s.images) for (let f = 0; f < image.frames; f++) out.push({image, f});
    return out;
  }
  function current() { return state.frames[state.position]; }
  function url(i) {
    const {image, f} = state.frames[i];
    let u = `/instances/${image.id}/frames/${f}.png?preset=${encodeURIComponent(presetSelect.value)}`;
    if (state.window && !image.colour) u += `&wc=${Math.round(state.window.c)}&ww=${Math.round(state.window.w)}`;
    return u;
  }
  const prefetched = new Set();
  function prefetch(i) {
    if (i < 0 || i >= state.frames.length) return;
    const u = url(i);
    if (prefetched.has(u)) return;
    prefetched.add(u);
    if (prefetched.size > 400) prefetched.clear();
    const p = new Image(); p.src = u;
  }
  function show(i) {
    if (!state.frames.length) return;
    state.position = Math.max(0, Math.min(state.frames.length - 1, i));
    const {image, f} = current();
    const u = url(state.position);
    if (img.getAttribute("src") !== u) img.src = u;
    slider.value = state.position;
    const n = state.frames.length;
    counter.textContent = `${state.position + 1} / ${n}`;
    img.alt = t("imageOfSeries", "Image %(n)s of %(total)s in series %(series)s",
      {n: state.position + 1, total: n, series: state.series + 1});
    img.dataset.position = state.position;
    slider.setAttribute("aria-valuetext", t("imageOf", "Image %(n)s of %(total)s", {n: state.position + 1, total: n}));
    fit(image);
    drawOverlay();
    markActiveKey();
    syncEditor();
    for (const d of [1, -1, 2, -2, 3]) prefetch(state.position + d);
    void f;
  }
  function loadSeries(index, position) {
    state.series = index;
    seriesSelect.value = String(index);
    state.frames = frameList(data.series[index] || {images: []});
    slider.max = Math.max(state.frames.length - 1, 0);
    playButton.disabled = state.frames.length < 2;
    show(position === undefined ? Math.floor(state.frames.length / 2) : position);
    updateReadout();
  }

  // --- Layout, zoom, pan ------------------------------------------------------------------------
  function fit(image) {
    const W = stage.clientWidth, H = stage.clientHeight;
    const cols = image.cols || 512, rows = image.rows || 512;
    if (!W || !H) return;
    const a = cols / rows;
    const w = W / H > a ? H * a : W, h = W / H > a ? H : W / a;
    canvas.style.width = `${w}px`;
    canvas.style.height = `${h}px`;
    overlay.setAttribute("viewBox", `0 0 ${cols} ${rows}`);
  }
  function applyTransform() {
    canvas.style.transform = `translate(${state.panX}px, ${state.panY}px) scale(${state.scale})`;
    $("zoom-level").textContent = `${Math.round(state.scale * 100)}%`;
  }
  function zoom(factor) {
    state.scale = Math.max(1, Math.min(8, state.scale * factor));
    if (state.scale === 1) { state.panX = 0; state.panY = 0; }
    applyTransform();
  }
  function resetView() {
    state.scale = 1; state.panX = 0; state.panY = 0;
    applyTransform();
    if (state.window) { state.window = null; updateReadout(); show(state.position); }
  }
  if (window.ResizeObserver) new ResizeObserver(() => current() && fit(current().image)).observe(stage);

  // --- Window / level -------------------------------------------------------------------------
  function updateReadout() {
    const image = current() && current().image;
    if (image && image.colour) { readout.textContent = t("colour", "Colour image (shown as stored)"); return; }
    if (state.window) readout.textContent = `W ${Math.round(state.window.w)} · L ${Math.round(state.window.c)}`;
    else readout.textContent = `W/L: ${presetSelect.options[presetSelect.selectedIndex].text}`;
  }
  const windowCache = new Map();
  async function baseWindow() {
    if (state.window) return state.window;
    const preset = data.presets[presetSelect.value];
    if (preset) return {c: preset[0], w: preset[1]};
    const {image, f} = current();
    if (image.wc !== null && image.ww) return {c: image.wc, w: image.ww};
    const key = `${image.id}/${f}`;
    if (!windowCache.has(key)) {
      const r = await fetch(`/instances/${image.id}/frames/${f}/window.json`, {credentials: "same-origin"});
      const body = r.ok ? await r.json() : {};
      windowCache.set(key, body.center === null || body.center === undefined ? null : {c: body.center, w: body.width});
    }
    return windowCache.get(key) || {c: 128, w: 256};
  }
  let wlTimer = null, wlPending = false;
  function requestWindowedFrame(final) {
    // While dragging, ask the server for at most one frame per WL_DEBOUNCE_MS.
    wlPending = true;
    if (final) { clearTimeout(wlTimer); wlTimer = null; wlPending = false; show(state.position); return; }
    if (wlTimer) return;
    wlTimer = setTimeout(() => { wlTimer = null; if (wlPending) { wlPending = false; show(state.position); } }, WL_DEBOUNCE_MS);
  }

  // --- Overlay (key-image annotations, drawn, never burned in) -----------------------------------
  function svgEl(name, attrs) {
    const el = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    return el;
  }
  function keyAt(position) {
    const cur = state.frames[position];
    if (!cur) return null;
    return data.keyImages.find((k) => k.instance === cur.image.id && k.frame === cur.f) || null;
  }
  function drawShapes(shapes, cols, rows, cls) {
    const font = Math.max(rows * 0.04, 6);
    for (const a of shapes) {
      let lx, ly;
      if (a.type === "arrow") {
        overlay.appendChild(svgEl("line", {x1: a.x1 * cols, y1: a.y1 * rows, x2: a.x2 * cols, y2: a.y2 * rows,
          class: cls, "marker-end": cls.includes("draft") ? "url(#arrowhead-draft)" : "url(#arrowhead)",
          "vector-effect": "non-scaling-stroke"}));
        lx = a.x1 * cols; ly = a.y1 * rows;
      } else if (a.type === "circle") {
        overlay.appendChild(svgEl("circle", {cx: a.cx * cols, cy: a.cy * rows, r: a.r * cols, class: cls,
          "vector-effect": "non-scaling-stroke"}));
        lx = a.cx * cols; ly = (a.cy - a.r) * rows - font * 0.3;
      }
      if (a.label) {
        const text = svgEl("text", {x: lx, y: ly, "font-size": font, class: "annotation-label"});
        text.textContent = a.label;
        overlay.appendChild(text);
      }
    }
  }
  function drawOverlay() {
    const cur = current();
    if (!cur) return;
    const cols = cur.image.cols || 512, rows = cur.image.rows || 512;
    while (overlay.lastChild && overlay.lastChild.nodeName !== "defs") overlay.removeChild(overlay.lastChild);
    const key = keyAt(state.position);
    if (key && !(data.canEdit && editor && editor.open)) drawShapes(key.annotations, cols, rows, "annotation");
    if (state.draft.length) drawShapes(state.draft, cols, rows, "annotation draft");
  }

  // --- Key images strip ---------------------------------------------------------------------------
  function buildKeyStrip() {
    keyStrip.textContent = "";
    keyStrip.hidden = !data.keyImages.length;
    data.keyImages.forEach((k, n) => {
      const item = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.className = "key-thumb";
      b.dataset.key = k.id;
      const name = t("keyImage", "Key image %(n)s", {n: n + 1});
      b.setAttribute("aria-label", k.caption ? `${name}: ${k.caption}` : name);
      const thumb = document.createElement("img");
      thumb.src = k.thumb; thumb.alt = ""; thumb.width = 64; thumb.height = 64;
      b.appendChild(thumb);
      const c = document.createElement("span");
      c.textContent = k.caption || name;
      b.appendChild(c);
      b.addEventListener("click", () => { stop(); loadSeries(k.series, k.position); viewer.focus(); });
      item.appendChild(b);
      if (data.canEdit) {
        const del = document.createElement("button");
        del.type = "button"; del.className = "key-remove"; del.textContent = "×";
        del.setAttribute("aria-label", t("removeKeyImage", "Remove key image %(n)s", {n: n + 1}));
        del.addEventListener("click", () => removeKey(k.id));
        item.appendChild(del);
      }
      keyStrip.appendChild(item);
    });
    markActiveKey();
  }
  function markActiveKey() {
    const key = keyAt(state.position);
    for (const b of keyStrip.querySelectorAll(".key-thumb")) {
      b.setAttribute("aria-current", key && String(key.id) === b.dataset.key ? "true" : "false");
    }
  }

  // --- Cine ---------------------------------------------------------------------------------------
  function fps() { return Math.max(1, Math.min(30, parseInt(fpsInput.value, 10) || 10)); }
  function tick() {
    if (!state.playing) return;
    // Wait for the frame on screen before moving on, so a slow server never skips frames.
    if (img.complete) show((state.position + 1) % state.frames.length);
    state.timer = setTimeout(tick, 1000 / fps());
  }
  function play() {
    if (state.frames.length < 2) return;
    state.playing = true;
    playButton.setAttribute("aria-pressed", "true");
    playButton.textContent = `❚❚ ${t("pause", "Pause")}`;
    counter.setAttribute("aria-live", "off");
    state.timer = setTimeout(tick, 1000 / fps());
  }
  function stop() {
    state.playing = false;
    clearTimeout(state.timer);
    playButton.setAttribute("aria-pressed", "false");
    playButton.textContent = `▶ ${t("play", "Play")}`;
    counter.setAttribute("aria-live", "polite");
  }
  function togglePlay() { state.playing ? stop() : play(); }

  // --- Pointer input: drag tools, pinch ----------------------------------------------------------------
  const pointers = new Map();
  let drag = null;
  function normalised(e) {
    const r = canvas.getBoundingClientRect();
    return {x: Math.max(0, Math.min(1, (e.clientX - r.left) / r.width)),
            y: Math.max(0, Math.min(1, (e.clientY - r.top) / r.height))};
  }
  function drawTool() {
    const checked = document.querySelector("input[name=key-shape]:checked");
    return editor && editor.open && checked ? checked.value : "none";
  }
  stage.addEventListener("pointerdown", async (e) => {
    try { stage.setPointerCapture(e.pointerId); } catch (err) { /* not an active pointer */ }
    pointers.set(e.pointerId, {x: e.clientX, y: e.clientY});
    if (pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      drag = {mode: "pinch", dist: Math.hypot(a.x - b.x, a.y - b.y), mid: {x: (a.x + b.x) / 2, y: (a.y + b.y) / 2},
              scale: state.scale, panX: state.panX, panY: state.panY};
      return;
    }
    if (pointers.size > 2) return;
    e.preventDefault();
    let mode = state.tool;
    if (e.shiftKey || e.button === 1) mode = "pan";
    else if (e.altKey) mode = "scroll";
    const shape = drawTool();
    if (shape !== "none" && e.button === 0 && !e.shiftKey) mode = "draw";
    drag = {mode, x: e.clientX, y: e.clientY, position: state.position, panX: state.panX, panY: state.panY};
    if (mode === "draw") {
      const p = normalised(e);
      drag.shape = shape === "arrow"
        ? {type: "arrow", x1: p.x, y1: p.y, x2: p.x, y2: p.y, label: $("key-label").value}
        : {type: "circle", cx: p.x, cy: p.y, r: 0.01, label: $("key-label").value};
      state.draft.push(drag.shape);
    }
    if (mode === "wl") {
      const image = current().image;
      if (image.colour) { announce(t("colourNoContrast", "Colour images are shown as stored.")); drag = null; return; }
      const thisDrag = drag;
      const base = await baseWindow();
      if (drag === thisDrag) thisDrag.base = base;
    }
  });
  stage.addEventListener("pointermove", (e) => {
    if (!pointers.has(e.pointerId)) return;
    pointers.set(e.pointerId, {x: e.clientX, y: e.clientY});
    if (!drag) return;
    if (drag.mode === "pinch" && pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      const dist = Math.hypot(a.x - b.x, a.y - b.y), mid = {x: (a.x + b.x) / 2, y: (a.y + b.y) / 2};
      state.scale = Math.max(1, Math.min(8, drag.scale * dist / Math.max(drag.dist, 1)));
      state.panX = drag.panX + mid.x - drag.mid.x; state.panY = drag.panY + mid.y - drag.mid.y;
      applyTransform();
      return;
    }
    const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (drag.mode === "pan") {
      state.panX = drag.panX + dx; state.panY = drag.panY + dy; applyTransform();
    } else if (drag.mode === "scroll") {
      show(drag.position + Math.round(dy / 12));
    } else if (drag.mode === "wl" && drag.base) {
      // Full stage width of horizontal drag doubles/halves nothing: it adds one base width.
      const sens = Math.max(drag.base.w, 10) / Math.max(stage.clientWidth, 200);
      state.window = {c: drag.base.c - dy * sens, w: Math.max(1, drag.base.w + dx * sens)};
      updateReadout();
      requestWindowedFrame(false);
    } else if (drag.mode === "draw") {
      const p = normalised(e);
      if (drag.shape.type === "arrow") { drag.shape.x2 = p.x; drag.shape.y2 = p.y; }
      else {
        const r = canvas.getBoundingClientRect();
        const px = (p.x - drag.shape.cx) * r.width, py = (p.y - drag.shape.cy) * r.height;
        drag.shape.r = Math.min(1, Math.max(0.01, Math.hypot(px, py) / r.width));
      }
      drawOverlay();
    }
  });
  function endPointer(e) {
    pointers.delete(e.pointerId);
    if (drag && drag.mode === "wl" && state.window) requestWindowedFrame(true);
    if (drag && drag.mode === "draw") {
      const s = drag.shape;
      if (s.type === "arrow" && Math.hypot(s.x2 - s.x1, s.y2 - s.y1) < 0.01) {
        // A click, not a drag: point the arrow at the click from the upper left.
        s.x1 = Math.max(0, s.x2 - 0.12); s.y1 = Math.max(0, s.y2 - 0.12);
      }
      drawOverlay();
    }
    if (pointers.size === 0) drag = null;
  }
  stage.addEventListener("pointerup", endPointer);
  stage.addEventListener("pointercancel", endPointer);
  let wheelAcc = 0;
  stage.addEventListener("wheel", (e) => {
    e.preventDefault();
    if (e.ctrlKey || e.metaKey) { zoom(e.deltaY < 0 ? 1.15 : 1 / 1.15); return; }
    wheelAcc += e.deltaY;
    if (Math.abs(wheelAcc) < 40) return;
    show(state.position + Math.sign(wheelAcc));
    wheelAcc = 0;
  }, {passive: false});

  // --- Keyboard -------------------------------------------------------------------------------
  viewer.addEventListener("keydown", (e) => {
    if (e.target !== viewer && e.target !== stage) return; // controls keep their own keys
    const step = {ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1, PageDown: 10, PageUp: -10}[e.key];
    let handled = true;
    if (step !== undefined) show(state.position + step);
    else if (e.key === "Home") show(0);
    else if (e.key === "End") show(state.frames.length - 1);
    else if (e.key === "+" || e.key === "=") zoom(1.25);
    else if (e.key === "-" || e.key === "_") zoom(1 / 1.25);
    else if (e.key === "0") resetView();
    else if (e.key === " ") togglePlay();
    else handled = false;
    if (handled) e.preventDefault();
  });

  // --- Toolbar ----------------------------------------------------------------------------------
  slider.addEventListener("input", () => show(parseInt(slider.value, 10)));
  seriesSelect.addEventListener("change", () => { stop(); state.window = null; updateReadout(); loadSeries(parseInt(seriesSelect.value, 10)); });
  presetSelect.addEventListener("change", () => { state.window = null; updateReadout(); show(state.position); });
  for (const r of document.querySelectorAll("input[name=drag-tool]")) {
    r.checked = r.value === state.tool;
    r.addEventListener("change", () => { if (r.checked) state.tool = r.value; });
  }
  $("zoom-in").addEventListener("click", () => zoom(1.25));
  $("zoom-out").addEventListener("click", () => zoom(1 / 1.25));
  $("view-reset").addEventListener("click", resetView);
  playButton.addEventListener("click", togglePlay);
  fpsInput.addEventListener("change", () => { fpsInput.value = fps(); });
  function announce(text) { if (status) status.textContent = text; }

  // --- Key-image editor (teachers and curators) -------------------------------------------------------
  const editor = $("key-editor");
  function csrf() { const el = document.querySelector("[name=csrfmiddlewaretoken]"); return el ? el.value : ""; }
  function syncEditor() {
    if (!editor) return;
    const key = keyAt(state.position);
    state.draft = key ? key.annotations.map((a) => ({...a})) : [];
    $("key-caption").value = key ? key.caption : "";
    $("key-save").textContent = key ? t("updateKey", "Update key image") : t("saveKey", "Save as key image");
    $("key-remove").hidden = !key;
    if (editor.open) drawOverlay();
  }
  async function post(u, body) {
    const r = await fetch(u, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf()}, body: JSON.stringify(body || {})});
    const json = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(json.error || t("saveFailed", "The key image could not be saved."));
    return json;
  }
  async function removeKey(id) {
    try {
      const res = await post(`${data.keyImageUrl}${id}/delete`);
      data.keyImages = res.keyImages; buildKeyStrip(); syncEditor(); drawOverlay();
      announce(t("removed", "Key image removed."));
    } catch (err) { announce(err.message); }
  }
  if (editor) {
    editor.addEventListener("toggle", () => { syncEditor(); drawOverlay(); });
    $("key-clear").addEventListener("click", () => { state.draft = []; drawOverlay(); });
    $("key-save").addEventListener("click", async () => {
      const {image, f} = current();
      try {
        const res = await post(data.keyImageUrl, {instance: image.id, frame: f,
          caption: $("key-caption").value, annotations: state.draft});
        data.keyImages = res.keyImages; buildKeyStrip(); syncEditor();
        announce(t("saved", "Saved: image %(n)s is a key image.", {n: state.position + 1}));
      } catch (err) { announce(err.message); }
    });
    $("key-remove").addEventListener("click", () => { const k = keyAt(state.position); if (k) removeKey(k.id); });
  }

  // --- Start: key images first ---------------------------------------------------------------------
  buildKeyStrip();
  updateReadout();
  applyTransform();
  const first = data.keyImages[0];
  if (first) loadSeries(first.series, first.position); else loadSeries(0);
})();

// The case viewer: Cornerstone3D over the archive's own DICOMweb.
//
// The page gives the series (DICOMweb UIDs, labels, thumbnails), the key images and the words
// (translated on the server) as JSON in #viewer-data. For the open series the viewer reads the
// WADO-RS series metadata once and then each frame from WADO-RS `frames/{n}`, which the server
// sends uncompressed: windowing, zoom, pan, scrolling, cine and measurements all happen here, in
// the browser. Every request goes to the same origin with the session cookie, so the privacy
// policy on the server decides what arrives (an unanswered quiz's descriptions never do).
import {
  Enums,
  RenderingEngine,
  cache,
  eventTarget,
  setUseCPURendering,
  init as coreInit,
  utilities,
} from "@cornerstonejs/core";
import { init as loaderInit, wadors } from "@cornerstonejs/dicom-image-loader";
import {
  AngleTool,
  EllipticalROITool,
  Enums as ToolEnums,
  LengthTool,
  PanTool,
  StackScrollTool,
  ToolGroupManager,
  WindowLevelTool,
  ZoomTool,
  addTool,
  init as toolsInit,
  utilities as toolUtilities,
} from "@cornerstonejs/tools";

import { orientationLabels, patientMapping, unit } from "./orientation.js";
import { autoWindow, headerWindow, initialPreset, presetsFor } from "./windows.js";

const $ = (id) => document.getElementById(id);
const dataElement = $("viewer-data");
const element = $("viewport");
const { MouseBindings } = ToolEnums;
const VIEWPORT = "case-viewport";
const TOOL_GROUP = "case-tools";
const DRAG_TOOLS = {
  wl: WindowLevelTool.toolName,
  pan: PanTool.toolName,
  zoom: ZoomTool.toolName,
  scroll: StackScrollTool.toolName,
  length: LengthTool.toolName,
  angle: AngleTool.toolName,
  ellipse: EllipticalROITool.toolName,
};
const MEASUREMENTS = new Set(["length", "angle", "ellipse"]);
const SVG = "http://www.w3.org/2000/svg";

let software;
function softwareWebGL() {
  if (software === undefined) {
    software = false;
    try {
      const gl = document.createElement("canvas").getContext("webgl2");
      const info = gl && gl.getExtension("WEBGL_debug_renderer_info");
      const renderer = info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : "";
      software = /swiftshader|llvmpipe|software|softpipe/i.test(renderer);
      gl?.getExtension("WEBGL_lose_context")?.loseContext();
    } catch {
      software = false;
    }
  }
  return software;
}

function words(data) {
  const table = data.text || {};
  return (key, fallback, values) => {
    let text = table[key] || fallback;
    for (const [k, v] of Object.entries(values || {})) text = text.replace(`%(${k})s`, v);
    return text;
  };
}

async function main() {
  const data = JSON.parse(dataElement.textContent);
  const t = words(data);
  const status = $("viewer-status");
  const say = (text) => {
    status.textContent = text;
  };
  const coarse = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;

  coreInit();
  // A software "GPU" (SwiftShader, llvmpipe: headless browsers, some virtual machines) draws
  // a 2D image several times slower than Cornerstone's canvas path; use that path then.
  if (softwareWebGL()) setUseCPURendering(true);
  element.dataset.renderer = softwareWebGL() ? "cpu" : "webgl";
  loaderInit({ maxWebWorkers: Math.min(2, navigator.hardwareConcurrency || 1) });
  toolsInit();
  for (const tool of [WindowLevelTool, PanTool, ZoomTool, StackScrollTool, LengthTool,
    AngleTool, EllipticalROITool]) addTool(tool);

  const engine = new RenderingEngine("case-viewer");
  engine.enableElement({
    viewportId: VIEWPORT,
    type: Enums.ViewportType.STACK,
    element,
    defaultOptions: { background: [0, 0, 0] },
  });
  const viewport = engine.getViewport(VIEWPORT);
  const group = ToolGroupManager.createToolGroup(TOOL_GROUP);
  for (const name of Object.values(DRAG_TOOLS)) group.addTool(name);
  group.addViewport(VIEWPORT, "case-viewer");

  const state = {
    series: -1,
    // Until the first series' stack and window are set, a drawing (the empty viewport's, on a
    // resize) is not the viewer being ready.
    settingUp: true,
    imageIds: [],
    metaBySop: new Map(),
    modality: "",
    colour: false,
    unit: "",
    headerWindow: null,
    tool: coarse ? "scroll" : "wl",
    playing: false,
    showAnnotations: true,
  };

  // --- Tools: the primary button (one finger) does the chosen tool; the wheel scrolls, the
  // middle button pans, the right button zooms, two fingers pinch-zoom and pan.
  function setTool(name) {
    state.tool = name;
    for (const [key, toolName] of Object.entries(DRAG_TOOLS)) {
      if (key !== name && !["scroll", "pan", "zoom"].includes(key)) group.setToolPassive(toolName);
    }
    group.setToolActive(StackScrollTool.toolName, {
      bindings: [{ mouseButton: MouseBindings.Wheel },
        ...(name === "scroll" ? [{ mouseButton: MouseBindings.Primary }] : [])],
    });
    group.setToolActive(PanTool.toolName, {
      bindings: [{ mouseButton: MouseBindings.Auxiliary },
        ...(name === "pan" ? [{ mouseButton: MouseBindings.Primary }] : [])],
    });
    group.setToolActive(ZoomTool.toolName, {
      bindings: [{ mouseButton: MouseBindings.Secondary }, { numTouchPoints: 2 },
        ...(name === "zoom" ? [{ mouseButton: MouseBindings.Primary }] : [])],
    });
    if (!["scroll", "pan", "zoom"].includes(name)) {
      group.setToolActive(DRAG_TOOLS[name], { bindings: [{ mouseButton: MouseBindings.Primary }] });
    }
    for (const button of document.querySelectorAll("[data-tool]")) {
      button.setAttribute("aria-pressed", String(button.dataset.tool === name));
    }
    element.dataset.activeTool = name;
  }

  // --- Series: metadata once, frames on demand ------------------------------------------------
  const seriesData = data.series;
  const strip = $("series-strip");
  const counter = $("frame-counter");
  const slider = $("frame-slider");
  const presetSelect = $("preset-select");

  function frameImageIds(series, metaBySop) {
    const ids = [];
    const base = `${location.origin}${data.dicomweb}/studies/${series.study}/series/${series.uid}`;
    for (const image of series.images) {
      const meta = metaBySop.get(image.sop);
      if (!meta) continue;
      const root = `wadors:${base}/instances/${image.sop}/frames/`;
      wadors.metaDataManager.add(`${root}1`, meta);
      for (let f = 1; f <= image.frames; f++) ids.push(`${root}${f}`);
    }
    return ids;
  }

  function plainColour(meta) {
    // Frames arrive uncompressed and colour frames as RGB, pixel-interleaved (see the server's
    // archive/dicomweb/transcoding.py): the header's YBR or planar layout no longer applies.
    const samples = meta["00280002"]?.Value?.[0] || 1;
    if (samples === 3) {
      meta["00280004"] = { vr: "CS", Value: ["RGB"] };
      meta["00280006"] = { vr: "US", Value: [0] };
    }
    return meta;
  }

  async function loadMetadata(series) {
    const url = `${data.dicomweb}/studies/${series.study}/series/${series.uid}/metadata`;
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`metadata ${response.status}`);
    const list = await response.json();
    const bySop = new Map();
    for (const meta of list) bySop.set(meta["00080018"].Value[0], plainColour(meta));
    return bySop;
  }

  async function openSeries(index, position = 0) {
    if (index < 0 || index >= seriesData.length) return;
    stopCine();
    const series = seriesData[index];
    state.series = index;
    for (const button of strip.querySelectorAll("button")) {
      button.setAttribute("aria-current", String(Number(button.dataset.series) === index));
    }
    say(t("loading", "Loading the images…"));
    // Not "ready" from here until the series' window is set: a drawing while its metadata
    // loads (a resize) would let a window chosen now be overridden by the opening preset.
    element.dataset.ready = "false";
    state.settingUp = true;
    let bySop;
    try {
      bySop = await loadMetadata(series);
    } catch (error) {
      say(t("loadFailed", "The images could not be loaded. Reload the page to try again."));
      return;
    }
    if (state.series !== index) return; // another series was chosen meanwhile
    state.imageIds = frameImageIds(series, bySop);
    state.metaBySop = bySop;
    const first = bySop.get(series.images[0].sop) || {};
    state.modality = (first["00080060"]?.Value?.[0] || series.modality || "").toUpperCase();
    state.colour = (first["00280002"]?.Value?.[0] || 1) === 3;
    state.unit = state.modality === "CT" ? "HU" : "";
    state.headerWindow = headerWindow(first);
    state.mapping = patientMapping(first);
    fillPresets();
    slider.max = String(Math.max(state.imageIds.length - 1, 0));
    element.dataset.series = String(index);
    try {
      await viewport.setStack(state.imageIds, Math.min(position, state.imageIds.length - 1));
    } finally {
      state.settingUp = false;
    }
    // The rest of the series loads in the background, nearest slices first, so scrolling and
    // cine run from memory.
    toolUtilities.stackPrefetch.enable(element);
    applyPreset(initialPreset(state.presets));
    state.baseInvert = Boolean(viewport.getProperties().invert);
    $("invert").setAttribute("aria-pressed", "false");
    fitView();
    viewport.render();
    say("");
    updateCounter();
    updateWindowReadout();
    updateOrientation();
  }

  function fillPresets() {
    presetSelect.replaceChildren();
    const presets = presetsFor(state.modality, state.colour, Boolean(state.headerWindow));
    for (const preset of presets) {
      const option = document.createElement("option");
      option.value = preset.name;
      option.textContent = t(`preset_${preset.name}`, preset.name) +
        (preset.key ? ` (${preset.key})` : "");
      presetSelect.append(option);
    }
    presetSelect.disabled = state.colour;
    state.presets = presets;
  }

  // The image on screen (null while none is): coordinates can be converted only then.
  function currentImage() {
    const id = viewport.getCurrentImageId();
    if (!id || !viewport.getImageData()) return null;
    return cache.getImage(id) || null;
  }

  function applyPreset(name) {
    if (state.colour) return;
    const preset = (state.presets || []).find((p) => p.name === name);
    if (!preset) return;
    let window = null;
    if (preset.window) window = preset.window;
    else if (name === "header") window = state.headerWindow;
    else {
      const image = currentImage();
      if (image) window = autoWindow(modalityValues(image), name === "full");
    }
    if (!window) return;
    const [center, width] = window;
    viewport.setProperties({ voiRange: utilities.windowLevel.toLowHighRange(width, center) });
    viewport.render();
    presetSelect.value = name;
    updateWindowReadout();
  }

  // --- What the user reads: position, window, pixel value, orientation ---------------------
  function updateCounter() {
    const n = state.imageIds.length;
    const i = viewport.getCurrentImageIdIndex();
    counter.textContent = `${i + 1} / ${n}`;
    slider.value = String(i);
    slider.setAttribute("aria-valuetext", t("imageOf", "Image %(n)s of %(total)s",
      { n: i + 1, total: n }));
    element.setAttribute("aria-label", t("imageOfSeries",
      "Image %(n)s of %(total)s in series %(series)s",
      { n: i + 1, total: n, series: state.series + 1 }));
    markKeyImage();
  }

  function updateWindowReadout() {
    const readout = $("wl-readout");
    if (state.colour) {
      readout.textContent = t("colour", "Colour image (shown as stored)");
      return;
    }
    const range = viewport.getProperties().voiRange;
    if (!range) return;
    const { windowWidth, windowCenter } = utilities.windowLevel.toWindowLevel(range.lower,
      range.upper);
    readout.textContent = t("windowLevel", "W %(w)s L %(l)s",
      { w: Math.round(windowWidth), l: Math.round(windowCenter) });
    readout.dataset.width = String(Math.round(windowWidth));
    readout.dataset.center = String(Math.round(windowCenter));
  }

  function modalityValues(image) {
    const pixels = image.getPixelData();
    if (image.preScale?.scaled || (image.slope === 1 && image.intercept === 0)) return pixels;
    const out = new Float32Array(pixels.length);
    for (let i = 0; i < pixels.length; i++) out[i] = pixels[i] * image.slope + image.intercept;
    return out;
  }

  function pixelReadout(event) {
    const readout = $("pixel-readout");
    const image = currentImage();
    if (!image) return;
    const rect = element.getBoundingClientRect();
    const world = viewport.canvasToWorld([event.clientX - rect.left, event.clientY - rect.top]);
    const [x, y] = utilities.worldToImageCoords(viewport.getCurrentImageId(), world);
    const col = Math.floor(x);
    const row = Math.floor(y);
    if (col < 0 || row < 0 || col >= image.columns || row >= image.rows) {
      readout.textContent = "";
      return;
    }
    const pixels = image.getPixelData();
    let value;
    if (image.color) {
      const samples = pixels.length / (image.rows * image.columns);
      const at = (row * image.columns + col) * samples;
      value = `R ${pixels[at]} G ${pixels[at + 1]} B ${pixels[at + 2]}`;
    } else {
      let v = pixels[row * image.columns + col];
      if (!image.preScale?.scaled) v = v * image.slope + image.intercept;
      v = Math.round(v * 10) / 10;
      value = state.unit ? `${v} ${state.unit}` : t("value", "value %(v)s", { v });
      readout.dataset.value = String(v);
    }
    readout.textContent = `x ${col} y ${row} · ${value}`;
  }

  function updateOrientation() {
    let labels = null;
    if (currentImage()) {
      const rect = element.getBoundingClientRect();
      const [cx, cy] = [rect.width / 2, rect.height / 2];
      const origin = viewport.canvasToWorld([cx, cy]);
      const right = unit(origin, viewport.canvasToWorld([cx + 10, cy]));
      const up = unit(origin, viewport.canvasToWorld([cx, cy - 10]));
      labels = orientationLabels(up, right, state.mapping);
    }
    for (const side of ["top", "bottom", "left", "right"]) {
      $(`orientation-${side}`).textContent = labels ? labels[side] : "";
    }
  }

  // --- Key images and their annotations, drawn over the image -------------------------------
  const overlay = $("viewer-overlay");
  const keyStrip = $("key-strip");
  const keys = data.keyImages || [];
  let draft = [];

  function keyAtCurrent() {
    const i = viewport.getCurrentImageIdIndex();
    return keys.find((k) => k.series === state.series && k.position === i);
  }

  function markKeyImage() {
    const key = keyAtCurrent();
    for (const button of keyStrip.querySelectorAll("button.key-thumb")) {
      button.setAttribute("aria-current", String(key && Number(button.dataset.key) === key.id));
    }
    drawOverlay();
    syncEditor();
  }

  function toCanvas(nx, ny) {
    const image = currentImage();
    if (!image) return null;
    const world = utilities.imageToWorldCoords(viewport.getCurrentImageId(),
      [nx * image.columns, ny * image.rows]);
    return viewport.worldToCanvas(world);
  }

  function shape(a, isDraft) {
    const group = document.createElementNS(SVG, "g");
    group.setAttribute("class", isDraft ? "annotation draft" : "annotation");
    let anchor;
    if (a.type === "arrow") {
      const p1 = toCanvas(a.x1, a.y1);
      const p2 = toCanvas(a.x2, a.y2);
      if (!p1 || !p2) return null;
      const line = document.createElementNS(SVG, "line");
      line.setAttribute("x1", p1[0]);
      line.setAttribute("y1", p1[1]);
      line.setAttribute("x2", p2[0]);
      line.setAttribute("y2", p2[1]);
      line.setAttribute("class", isDraft ? "annotation draft" : "annotation");
      line.setAttribute("marker-end", isDraft ? "url(#arrowhead-draft)" : "url(#arrowhead)");
      group.append(line);
      anchor = p1;
    } else if (a.type === "circle") {
      const c = toCanvas(a.cx, a.cy);
      const edge = toCanvas(a.cx + a.r, a.cy);
      if (!c || !edge) return null;
      const circle = document.createElementNS(SVG, "circle");
      circle.setAttribute("cx", c[0]);
      circle.setAttribute("cy", c[1]);
      circle.setAttribute("r", Math.hypot(edge[0] - c[0], edge[1] - c[1]));
      circle.setAttribute("class", isDraft ? "annotation draft" : "annotation");
      group.append(circle);
      anchor = c;
    } else return null;
    if (a.label) {
      const text = document.createElementNS(SVG, "text");
      text.setAttribute("x", anchor[0] + 6);
      text.setAttribute("y", anchor[1] - 6);
      text.setAttribute("class", "annotation-label");
      text.textContent = a.label;
      group.append(text);
    }
    return group;
  }

  function drawOverlay() {
    const rect = element.getBoundingClientRect();
    overlay.setAttribute("viewBox", `0 0 ${rect.width} ${rect.height}`);
    for (const node of [...overlay.querySelectorAll("g")]) node.remove();
    const key = keyAtCurrent();
    const shapes = [];
    if (key && state.showAnnotations) for (const a of key.annotations) shapes.push(shape(a, false));
    for (const a of draft) shapes.push(shape(a, true));
    for (const s of shapes) if (s) overlay.append(s);
  }

  function buildKeyStrip() {
    keyStrip.replaceChildren();
    keys.forEach((key, n) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "key-thumb";
      button.dataset.key = String(key.id);
      const img = document.createElement("img");
      img.src = key.thumb;
      img.alt = "";
      img.width = 64;
      img.height = 64;
      const label = document.createElement("span");
      label.textContent = key.caption || t("keyImage", "Key image %(n)s", { n: n + 1 });
      button.append(img, label);
      button.addEventListener("click", () => goToKey(key));
      item.append(button);
      keyStrip.append(item);
    });
    keyStrip.hidden = keys.length === 0;
    $("annotations-toggle").hidden = !keys.some((k) => k.annotations.length);
  }

  async function goToKey(key) {
    if (key.series !== state.series) await openSeries(key.series, key.position);
    else await viewport.setImageIdIndex(key.position);
  }

  // --- The teacher's key-image editor (arrows and circles stored as data, never burned in) ---
  const editor = $("key-editor");
  let drawing = null;

  function normalised(event) {
    const image = currentImage();
    if (!image) return null;
    const rect = element.getBoundingClientRect();
    const world = viewport.canvasToWorld([event.clientX - rect.left, event.clientY - rect.top]);
    const [x, y] = utilities.worldToImageCoords(viewport.getCurrentImageId(), world);
    return [x / image.columns, y / image.rows];
  }

  function drawShape() {
    const checked = document.querySelector("input[name=key-shape]:checked");
    return editor && editor.open && checked ? checked.value : "none";
  }

  function syncEditor() {
    if (!editor) return;
    const key = keyAtCurrent();
    $("key-save").textContent = key ? t("updateKey", "Update key image") : t("saveKey",
      "Save as key image");
    $("key-remove").hidden = !key;
    overlay.classList.toggle("drawing", drawShape() !== "none");
  }

  function setupEditor() {
    if (!editor) return;
    const round = (v) => Math.round(Math.min(Math.max(v, 0), 1) * 1000) / 1000;
    editor.addEventListener("toggle", syncEditor);
    for (const radio of document.querySelectorAll("input[name=key-shape]")) {
      radio.addEventListener("change", syncEditor);
    }
    overlay.addEventListener("pointerdown", (event) => {
      const kind = drawShape();
      const start = normalised(event);
      if (kind === "none" || !start) return;
      event.preventDefault();
      overlay.setPointerCapture(event.pointerId);
      drawing = { kind, start, label: $("key-label").value.trim() };
    });
    overlay.addEventListener("pointermove", (event) => {
      if (!drawing) return;
      const end = normalised(event);
      if (!end) return;
      const [x1, y1] = drawing.start;
      const a = drawing.kind === "arrow"
        ? { type: "arrow", x1: round(x1), y1: round(y1), x2: round(end[0]), y2: round(end[1]) }
        : { type: "circle", cx: round(x1), cy: round(y1),
          r: round(Math.hypot(end[0] - x1, end[1] - y1)) };
      a.label = drawing.label;
      drawing.shape = a;
      draft = [...draft.filter((d) => d !== drawing.previous), a];
      drawing.previous = a;
      drawOverlay();
    });
    overlay.addEventListener("pointerup", () => {
      drawing = null;
    });
    $("key-clear").addEventListener("click", () => {
      draft = [];
      drawOverlay();
    });
    const csrf = () => document.querySelector("#key-editor input[name=csrfmiddlewaretoken]").value;
    $("key-save").addEventListener("click", async () => {
      const image = state.imageIds[viewport.getCurrentImageIdIndex()];
      const match = /instances\/([^/]+)\/frames\/(\d+)$/.exec(image);
      const series = seriesData[state.series];
      const entry = series.images.find((i) => i.sop === match[1]);
      const body = { instance: entry.id, frame: Number(match[2]) - 1,
        caption: $("key-caption").value, annotations: draft };
      const response = await fetch(data.keyImageUrl, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
        body: JSON.stringify(body),
      });
      if (!response.ok) {
        say(t("saveFailed", "The key image could not be saved. Reload the page and try again."));
        return;
      }
      const answer = await response.json();
      keys.splice(0, keys.length, ...answer.keyImages);
      draft = [];
      buildKeyStrip();
      markKeyImage();
      say(t("saved", "Saved: image %(n)s is a key image.",
        { n: viewport.getCurrentImageIdIndex() + 1 }));
    });
    $("key-remove").addEventListener("click", async () => {
      const key = keyAtCurrent();
      if (!key) return;
      const response = await fetch(`${data.keyImageUrl}${key.id}/delete`, {
        method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf() },
      });
      if (!response.ok) {
        say(t("saveFailed", "The key image could not be saved. Reload the page and try again."));
        return;
      }
      const answer = await response.json();
      keys.splice(0, keys.length, ...answer.keyImages);
      buildKeyStrip();
      markKeyImage();
      say(t("removed", "Key image removed."));
    });
  }

  // --- Cine ----------------------------------------------------------------------------------
  const play = $("cine-play");
  const fps = $("cine-fps");

  function startCine() {
    if (state.imageIds.length < 2) return;
    toolUtilities.cine.playClip(element, { framesPerSecond: Number(fps.value) || 10, loop: true });
    state.playing = true;
    play.setAttribute("aria-pressed", "true");
    play.textContent = t("pause", "Pause");
  }

  function stopCine() {
    if (!state.playing) return;
    toolUtilities.cine.stopClip(element);
    state.playing = false;
    play.setAttribute("aria-pressed", "false");
    play.textContent = t("play", "Play");
  }

  // --- View actions --------------------------------------------------------------------------
  const actions = {
    invert: () => {
      // MONOCHROME1 is shown inverted already: the button says whether the user inverted it.
      const invert = !viewport.getProperties().invert;
      viewport.setProperties({ invert });
      viewport.render();
      $("invert").setAttribute("aria-pressed", String(invert !== state.baseInvert));
    },
    rotateRight: () => rotate(90),
    rotateLeft: () => rotate(-90),
    flipH: () => flip("flipHorizontal"),
    flipV: () => flip("flipVertical"),
    zoomIn: () => zoomBy(1.25),
    zoomOut: () => zoomBy(0.8),
    fit: () => {
      fitView();
      viewport.render();
      cameraChanged();
    },
    reset: () => {
      viewport.setRotation(0);
      viewport.setCamera({ flipHorizontal: false, flipVertical: false });
      fitView();
      viewport.resetProperties();
      applyPreset(initialPreset(state.presets || []));
      viewport.setProperties({ invert: state.baseInvert });
      viewport.render();
      cameraChanged();
      $("invert").setAttribute("aria-pressed", "false");
    },
    fullscreen: () => {
      const target = $("viewer");
      if (document.fullscreenElement) document.exitFullscreen();
      else if (target.requestFullscreen) target.requestFullscreen();
    },
    cine: () => (state.playing ? stopCine() : startCine()),
    annotations: () => {
      state.showAnnotations = !state.showAnnotations;
      $("annotations-toggle").setAttribute("aria-pressed", String(state.showAnnotations));
      drawOverlay();
    },
  };

  function rotate(degrees) {
    viewport.setRotation((Math.round(viewport.getRotation() || 0) + degrees + 360) % 360);
    viewport.render();
    cameraChanged();
  }

  // Flips are about the screen's axes. The canvas path flips about the image's own axes, so
  // on an image turned sideways the other flip gives what the user asked for.
  function flip(which) {
    const sideways = Math.round(viewport.getRotation() || 0) % 180 !== 0;
    const axis = sideways && element.dataset.renderer === "cpu"
      ? { flipHorizontal: "flipVertical", flipVertical: "flipHorizontal" }[which]
      : which;
    viewport.setCamera({ [axis]: !viewport.getCamera()[axis] });
    viewport.render();
    cameraChanged();
  }

  // Fit the image to the stage; zoom is shown relative to this (the rendering paths measure
  // zoom differently).
  function fitView() {
    viewport.resetCamera();
    state.fitZoom = viewport.getZoom() || 1;
  }

  function zoomBy(factor) {
    viewport.setZoom(viewport.getZoom() * factor);
    viewport.render();
    cameraChanged();
  }

  // Not every rendering path reports camera changes: the view actions call this themselves.
  function cameraChanged() {
    updateOrientation();
    drawOverlay();
    $("zoom-level").textContent = `${Math.round((viewport.getZoom() / (state.fitZoom || 1)) * 100)}%`;
  }

  async function scrollBy(delta) {
    const n = state.imageIds.length;
    if (!n) return;
    const next = Math.min(Math.max(viewport.getCurrentImageIdIndex() + delta, 0), n - 1);
    await viewport.setImageIdIndex(next);
  }

  // Keys as in OHIF where it has one: arrows scroll (left/right change series), + − = zoom,
  // r/l rotate, h/v flip, i invert, space resets, 1–9 pick a window preset.
  function onKey(event) {
    if (event.target.closest("input, select, textarea") || event.ctrlKey || event.metaKey) {
      return;
    }
    const key = event.key;
    const handled = {
      ArrowDown: () => scrollBy(1),
      ArrowUp: () => scrollBy(-1),
      PageDown: () => scrollBy(10),
      PageUp: () => scrollBy(-10),
      Home: () => viewport.setImageIdIndex(0),
      End: () => viewport.setImageIdIndex(state.imageIds.length - 1),
      ArrowRight: () => openSeries(Math.min(state.series + 1, seriesData.length - 1)),
      ArrowLeft: () => openSeries(Math.max(state.series - 1, 0)),
      "+": actions.zoomIn,
      "-": actions.zoomOut,
      "=": actions.fit,
      r: actions.rotateRight,
      l: actions.rotateLeft,
      h: actions.flipH,
      v: actions.flipV,
      i: actions.invert,
      " ": actions.reset,
      c: actions.cine,
      f: actions.fullscreen,
      a: actions.annotations,
      Escape: () => setTool(coarse ? "scroll" : "wl"),
    }[key];
    if (handled) {
      event.preventDefault();
      handled();
      return;
    }
    if (/^[1-9]$/.test(key) && state.presets && state.presets[Number(key) - 1]) {
      event.preventDefault();
      applyPreset(state.presets[Number(key) - 1].name);
    }
  }

  // --- Wiring ----------------------------------------------------------------------------------
  seriesData.forEach((series, index) => {
    const button = strip.querySelector(`button[data-series="${index}"]`);
    if (button) button.addEventListener("click", () => openSeries(index));
  });
  for (const button of document.querySelectorAll("[data-tool]")) {
    button.addEventListener("click", () => setTool(button.dataset.tool));
  }
  for (const button of document.querySelectorAll("[data-action]")) {
    button.addEventListener("click", () => actions[button.dataset.action]());
  }
  presetSelect.addEventListener("change", () => applyPreset(presetSelect.value));
  slider.addEventListener("input", () => viewport.setImageIdIndex(Number(slider.value)));
  fps.addEventListener("change", () => {
    if (state.playing) {
      stopCine();
      startCine();
    }
  });
  $("viewer").addEventListener("keydown", onKey);
  element.addEventListener(Enums.Events.STACK_NEW_IMAGE, updateCounter);
  element.addEventListener(Enums.Events.VOI_MODIFIED, updateWindowReadout);
  element.addEventListener(Enums.Events.CAMERA_MODIFIED, cameraChanged);
  element.addEventListener(Enums.Events.IMAGE_RENDERED, () => {
    if (state.settingUp) return;
    element.dataset.ready = "true";
    element.dataset.position = String(viewport.getCurrentImageIdIndex());
    if (!window.__firstImageAt) window.__firstImageAt = performance.now();
  });
  element.addEventListener("mousemove", pixelReadout);
  // Annotation events go to Cornerstone's global event target; the statistics of a new
  // measurement are computed when it is next drawn, so the last one is shown after each draw.
  let lastMeasurement = null;
  for (const name of [ToolEnums.Events.ANNOTATION_COMPLETED,
    ToolEnums.Events.ANNOTATION_MODIFIED]) {
    eventTarget.addEventListener(name, (event) => {
      lastMeasurement = event.detail.annotation;
      showMeasurement(lastMeasurement);
    });
  }
  element.addEventListener(ToolEnums.Events.ANNOTATION_RENDERED, () => {
    if (lastMeasurement) showMeasurement(lastMeasurement);
  });
  new ResizeObserver(() => {
    engine.resize(true, false);
    drawOverlay();
  }).observe(element);

  function showMeasurement(annotation) {
    const stats = Object.values(annotation?.data?.cachedStats || {})[0];
    if (!stats) return;
    const tool = annotation.metadata.toolName;
    const out = $("measurement");
    const r = (v) => Math.round(v * 10) / 10;
    if (tool === LengthTool.toolName && stats.length !== undefined) {
      out.textContent = t("length", "Length %(v)s %(unit)s", { v: r(stats.length),
        unit: stats.unit || "mm" });
    } else if (tool === AngleTool.toolName && stats.angle !== undefined) {
      out.textContent = t("angle", "Angle %(v)s°", { v: r(stats.angle) });
    } else if (tool === EllipticalROITool.toolName && stats.mean !== undefined) {
      out.textContent = t("ellipse", "Mean %(mean)s, SD %(sd)s %(unit)s, area %(area)s %(areaUnit)s", {
        mean: r(stats.mean), sd: r(stats.stdDev), unit: stats.modalityUnit || "",
        area: r(stats.area), areaUnit: stats.areaUnit || "",
      });
    }
  }

  buildKeyStrip();
  setupEditor();
  setTool(state.tool);
  const lead = data.lead || { series: 0, position: 0 };
  await openSeries(lead.series, lead.position);
  updateOrientation();
}

if (dataElement && element) {
  main().catch((error) => {
    const status = document.getElementById("viewer-status");
    if (status) status.textContent = status.dataset.failed || String(error);
    throw error;
  });
}

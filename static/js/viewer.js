// Stack viewer: scroll with the wheel, arrow keys or the slider; window presets; series switcher.
// Frames are rendered by the server (PNG, cached, ETag); neighbours are prefetched.
(function () {
  "use strict";
  const dataEl = document.getElementById("viewer-data");
  const img = document.getElementById("viewer-image");
  if (!dataEl || !img) return;
  const series = JSON.parse(dataEl.textContent);
  const viewer = document.getElementById("viewer");
  const slider = document.getElementById("frame-slider");
  const counter = document.getElementById("frame-counter");
  const seriesSelect = document.getElementById("series-select");
  const presetSelect = document.getElementById("preset-select");
  let current = 0, position = 0, frames = [];

  function frameList(s) {
    const out = [];
    for (const image of s.images) for (let f = 0; f < image.frames; f++) out.push([image.id, f]);
    return out;
  }
  function url(i) {
    const [id, f] = frames[i];
    return `/instances/${id}/frames/${f}.png?preset=${encodeURIComponent(presetSelect.value)}`;
  }
  function show(i) {
    if (!frames.length) return;
    position = Math.max(0, Math.min(frames.length - 1, i));
    img.src = url(position);
    slider.value = position;
    counter.textContent = `${position + 1} / ${frames.length}`;
    img.dataset.position = position;
    for (const n of [position + 1, position - 1, position + 2]) {
      if (n >= 0 && n < frames.length) { const p = new Image(); p.src = url(n); }
    }
  }
  function loadSeries(index) {
    current = index;
    frames = frameList(series[index] || {images: []});
    slider.max = Math.max(frames.length - 1, 0);
    show(Math.floor(frames.length / 2));
  }
  viewer.addEventListener("wheel", (e) => { e.preventDefault(); show(position + (e.deltaY > 0 ? 1 : -1)); }, {passive: false});
  viewer.addEventListener("keydown", (e) => {
    const step = {ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1, PageDown: 10, PageUp: -10}[e.key];
    if (step !== undefined && e.target.tagName !== "SELECT") { e.preventDefault(); show(position + step); }
    if (e.key === "Home") show(0);
    if (e.key === "End") show(frames.length - 1);
  });
  slider.addEventListener("input", () => show(parseInt(slider.value, 10)));
  seriesSelect.addEventListener("change", () => loadSeries(parseInt(seriesSelect.value, 10)));
  presetSelect.addEventListener("change", () => show(position));
  loadSeries(0);
})();

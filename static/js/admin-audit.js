// The admin's case page: the de-identification audit beside the viewer follows it. The audit
// of the series on screen is shown and the image on screen is marked, so that a curator reads
// what was removed from the very image they look at. The viewer (static/viewer/viewer.js)
// writes the series and the position it drew on #viewport; the images' order and frame counts
// come from the same #viewer-data it reads.
const viewport = document.getElementById("viewport");
const panel = document.getElementById("ta-audit");
const dataElement = document.getElementById("viewer-data");

function instanceAt(series, position) {
  let first = 0;
  for (const image of series?.images || []) {
    if (position < first + image.frames) return image.id;
    first += image.frames;
  }
  return null;
}

if (viewport && panel && dataElement) {
  const series = JSON.parse(dataElement.textContent).series || [];
  let shown = null;

  const follow = () => {
    const index = Number.parseInt(viewport.dataset.series ?? "", 10);
    if (Number.isNaN(index)) return; // nothing drawn yet: every series' audit stays listed
    for (const group of panel.querySelectorAll(".ta-audit-series[data-series]")) {
      group.hidden = Number(group.dataset.series) !== index;
    }
    const id = instanceAt(series[index], Number(viewport.dataset.position || 0));
    if (id === shown) return;
    shown = id;
    let current = null;
    for (const row of panel.querySelectorAll("[data-instance]")) {
      const here = Number(row.dataset.instance) === id;
      row.classList.toggle("current", here);
      if (here) {
        row.setAttribute("aria-current", "true");
        current = row;
      } else row.removeAttribute("aria-current");
    }
    // Scroll the panel, not the page: the viewer stays where the curator put it.
    if (current) {
      const top = current.offsetTop - panel.clientHeight / 3;
      panel.scrollTop = Math.max(0, top);
    }
  };

  new MutationObserver(follow).observe(viewport, {
    attributes: true,
    attributeFilter: ["data-series", "data-position"],
  });
  follow();
}

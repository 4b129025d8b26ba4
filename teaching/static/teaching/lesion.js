// Click the lesion (students) and draw its region (teachers) on a key image.
//
// #lesion-click: a click (or the arrow keys and Enter) puts a dot on the image and fills the
// hidden click_x/click_y inputs with the position in 0..1 of the image's width and height.
// #lesion-draw: the teacher drags an ellipse, or clicks the corners of a polygon (Enter or a
// double click closes it), and saves the region as data on the key image.
(function () {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";

  function position(target, event) {
    const rect = target.querySelector("img").getBoundingClientRect();
    const x = (event.clientX - rect.left) / rect.width;
    const y = (event.clientY - rect.top) / rect.height;
    return [Math.min(Math.max(x, 0), 1), Math.min(Math.max(y, 0), 1)];
  }

  function size(target) {
    const img = target.querySelector("img");
    return [Number(img.getAttribute("width")) || 1, Number(img.getAttribute("height")) || 1];
  }

  function svgNode(name, attributes) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
    return node;
  }

  // --- Students: one click ---------------------------------------------------------------------
  const clickTarget = document.getElementById("lesion-click");
  if (clickTarget) {
    const svg = clickTarget.querySelector("svg");
    const status = document.getElementById("click-status");
    const textNode = document.getElementById("click-text");
    const text = textNode ? JSON.parse(textNode.textContent) : {};
    const [w, h] = size(clickTarget);
    let point = null;
    const place = (x, y) => {
      point = [x, y];
      document.getElementById("click-x").value = x.toFixed(4);
      document.getElementById("click-y").value = y.toFixed(4);
      svg.replaceChildren(svgNode("circle", { class: "click", cx: x * w, cy: y * h,
        r: Math.max(w, h) * 0.02 }));
      status.textContent = (text.at || "%(x)s %(y)s")
        .replace("%(x)s", `${Math.round(x * 100)}%`).replace("%(y)s", `${Math.round(y * 100)}%`);
    };
    clickTarget.addEventListener("click", (event) => place(...position(clickTarget, event)));
    clickTarget.addEventListener("keydown", (event) => {
      const steps = { ArrowLeft: [-0.01, 0], ArrowRight: [0.01, 0], ArrowUp: [0, -0.01],
        ArrowDown: [0, 0.01] };
      if (event.key in steps) {
        event.preventDefault();
        const [x, y] = point || [0.5, 0.5];
        const [dx, dy] = steps[event.key].map((v) => (event.shiftKey ? v * 5 : v));
        place(Math.min(Math.max(x + dx, 0), 1), Math.min(Math.max(y + dy, 0), 1));
      } else if ((event.key === "Enter" || event.key === " ") && !point) {
        event.preventDefault();
        place(0.5, 0.5);
      }
    });
  }

  // --- Teachers: the region ---------------------------------------------------------------------
  const drawTarget = document.getElementById("lesion-draw");
  if (drawTarget) {
    const svg = drawTarget.querySelector("svg");
    const form = document.getElementById("lesion-form");
    const status = document.getElementById("lesion-status");
    const textNode = document.getElementById("lesion-text");
    const text = textNode ? JSON.parse(textNode.textContent) : {};
    const dataNode = document.getElementById("lesion-region");
    const [w, h] = size(drawTarget);
    let region = dataNode ? JSON.parse(dataNode.textContent) : null;
    let points = [];
    let drag = null;
    const tool = () => (form.querySelector("input[name=tool]:checked") || {}).value || "ellipse";
    const round = (v) => Math.round(Math.min(Math.max(v, 0), 1) * 10000) / 10000;

    function draw() {
      svg.replaceChildren();
      if (region && region.type === "ellipse") {
        svg.append(svgNode("ellipse", { class: "region", cx: region.cx * w, cy: region.cy * h,
          rx: region.rx * w, ry: region.ry * h }));
      } else if (region && region.type === "polygon") {
        svg.append(svgNode("polygon", { class: "region",
          points: region.points.map(([x, y]) => `${x * w},${y * h}`).join(" ") }));
      }
      if (points.length) {
        svg.append(svgNode("polyline", { class: "region draft", fill: "none",
          points: points.map(([x, y]) => `${x * w},${y * h}`).join(" ") }));
        for (const [x, y] of points) {
          svg.append(svgNode("circle", { class: "vertex", cx: x * w, cy: y * h,
            r: Math.max(w, h) * 0.006 }));
        }
      }
      form.elements.region.value = region ? JSON.stringify(region) : "";
    }

    function closePolygon() {
      if (points.length >= 3) {
        region = { type: "polygon", points: points.map(([x, y]) => [round(x), round(y)]) };
        status.textContent = text.polygon || "Polygon closed.";
      }
      points = [];
      draw();
    }

    drawTarget.addEventListener("pointerdown", (event) => {
      if (tool() !== "ellipse") return;
      event.preventDefault();
      drawTarget.setPointerCapture(event.pointerId);
      drag = position(drawTarget, event);
    });
    drawTarget.addEventListener("pointermove", (event) => {
      if (!drag) return;
      const [x, y] = position(drawTarget, event);
      region = { type: "ellipse", cx: round((drag[0] + x) / 2), cy: round((drag[1] + y) / 2),
        rx: round(Math.abs(x - drag[0]) / 2), ry: round(Math.abs(y - drag[1]) / 2) };
      draw();
    });
    drawTarget.addEventListener("pointerup", () => {
      if (drag && region) status.textContent = text.ellipse || "Ellipse drawn.";
      drag = null;
    });
    drawTarget.addEventListener("click", (event) => {
      if (tool() !== "polygon") return;
      points.push(position(drawTarget, event));
      draw();
    });
    drawTarget.addEventListener("dblclick", (event) => {
      if (tool() !== "polygon") return;
      event.preventDefault();
      points.pop(); // the double click's second click added a point on top of the first
      closePolygon();
    });
    drawTarget.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && tool() === "polygon") {
        event.preventDefault();
        closePolygon();
      } else if (event.key === "Escape") {
        points = [];
        draw();
      }
    });
    const close = document.getElementById("lesion-close");
    if (close) close.addEventListener("click", closePolygon);
    const clear = document.getElementById("lesion-clear");
    if (clear) clear.addEventListener("click", () => { region = null; points = []; draw(); });
    draw();
  }
})();

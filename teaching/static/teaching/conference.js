// Conference mode: one case at a time, step by step. Clickers send Page Down / Page Up (and
// often B or "." for a black screen); a keyboard can use the arrows and space too. The answer
// is not in the page: the reveal step fetches it from the teacher-only reveal URL.
(function () {
  "use strict";
  const slides = [...document.querySelectorAll(".slide")];
  if (!slides.length) return;
  const blackout = document.getElementById("blackout");
  const status = document.getElementById("conference-status");
  const textNode = document.getElementById("present-text");
  const text = textNode ? JSON.parse(textNode.textContent) : {};
  const STEPS = 3; // history, images, answer
  let current = 0;
  let step = 0;

  function say(message) {
    status.textContent = message;
  }

  async function reveal(slide) {
    const box = slide.querySelector(".step-reveal");
    if (box.dataset.loaded === "true") return;
    const response = await fetch(slide.dataset.revealUrl, { credentials: "same-origin" })
      .catch(() => null);
    if (!response || !response.ok) {
      say(text.revealFailed || "The answer could not be loaded.");
      return false;
    }
    box.innerHTML = await response.text(); // rendered (and escaped) by the server
    box.dataset.loaded = "true";
    return true;
  }

  async function show() {
    slides.forEach((slide, n) => { slide.hidden = n !== current; });
    const slide = slides[current];
    for (const node of slide.querySelectorAll(".step")) {
      node.hidden = Number(node.dataset.step) > step;
    }
    slide.classList.toggle("revealed", step >= 2);
    if (step >= 2) {
      const ok = await reveal(slide);
      if (ok === false) {
        step = 1;
        slide.querySelector(".step-reveal").hidden = true;
        slide.classList.remove("revealed");
      }
    }
    document.body.dataset.slide = String(current + 1);
    document.body.dataset.step = String(step);
    if (step === 0) {
      say((text.caseOf || "Case %(n)s of %(total)s").replace("%(n)s", String(current + 1))
        .replace("%(total)s", String(slides.length)));
    }
  }

  function next() {
    if (step < STEPS - 1) step += 1;
    else if (current < slides.length - 1) { current += 1; step = 0; }
    show();
  }

  function previous() {
    if (step > 0) step -= 1;
    else if (current > 0) { current -= 1; step = STEPS - 1; }
    show();
  }

  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const key = event.key;
    if (!blackout.hidden && !["b", "B", ".", "Escape"].includes(key)) {
      blackout.hidden = true; // any key brings the screen back, as on a projector remote
    }
    if (["PageDown", "ArrowRight", "ArrowDown", " ", "Enter", "n", "N"].includes(key)) next();
    else if (["PageUp", "ArrowLeft", "ArrowUp", "Backspace", "p", "P"].includes(key)) previous();
    else if (key === "b" || key === "B" || key === ".") blackout.hidden = !blackout.hidden;
    else if (key === "Escape") blackout.hidden = true;
    else if (key === "Home") { current = 0; step = 0; show(); }
    else if (key === "End") { current = slides.length - 1; step = 0; show(); }
    else if (key === "f" || key === "F") {
      if (document.fullscreenElement) document.exitFullscreen();
      else document.documentElement.requestFullscreen().catch(() => {});
    } else return;
    event.preventDefault();
  });
  document.getElementById("conference").focus();
  show();
})();

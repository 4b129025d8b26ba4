// Case editor: the diagnosis field suggests diagnoses of the archive and of the whole ICD-10
// (names, Czech names, synonyms such as "HCC", ICD-10 codes) from /api/diagnoses, as an ARIA
// combobox; choosing one fills the code, and the Czech name when that field is still empty.
(function () {
  "use strict";
  const input = document.querySelector("[data-diagnosis-autocomplete]");
  if (!input) return;
  const list = document.getElementById(input.getAttribute("aria-controls"));
  const code = document.getElementById("id_icd10");
  const czech = document.getElementById("id_diagnosis_name_cs");
  const url = input.dataset.diagnosisAutocomplete;
  let results = [];
  let active = -1;
  let timer = null;
  let lastQuery = "";

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function choose(index) {
    const d = results[index];
    if (!d) return;
    input.value = d.name;
    if (code) code.value = d.icd10 || "";
    if (czech && !czech.value && d.name_cs) czech.value = d.name_cs;
    lastQuery = d.name.toLowerCase();
    close();
    input.dispatchEvent(new Event("change", {bubbles: true}));
  }

  function highlight(index) {
    active = index;
    Array.from(list.children).forEach((li, i) => li.setAttribute("aria-selected", String(i === index)));
    if (index >= 0) {
      input.setAttribute("aria-activedescendant", `diagnosis-option-${index}`);
      list.children[index].scrollIntoView({block: "nearest"});
    } else input.removeAttribute("aria-activedescendant");
  }

  function show(items) {
    results = items;
    list.replaceChildren(...items.map((d, i) => {
      const li = document.createElement("li");
      li.id = `diagnosis-option-${i}`;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      const name = document.createElement("span");
      name.className = "combo-name";
      name.textContent = d.label + (d.icd10 ? ` (${d.icd10})` : "");
      li.append(name);
      const extra = [];
      if (d.label !== d.name) extra.push(d.name);
      if (d.matched) extra.push(`“${d.matched}”`);
      else if (d.synonyms.length) extra.push(d.synonyms.slice(0, 3).join(", "));
      if (d.block) extra.push(`ICD-10 ${d.block}`);
      if (extra.length) {
        const small = document.createElement("small");
        small.textContent = extra.join(" · ");
        li.append(small);
      }
      // mousedown, not click: it fires before the input loses focus and closes the list.
      li.addEventListener("mousedown", (e) => { e.preventDefault(); choose(i); });
      return li;
    }));
    if (items.length) {
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      highlight(-1);
    } else close();
  }

  function lookup() {
    const q = input.value.trim();
    if (q.toLowerCase() === lastQuery) return;
    lastQuery = q.toLowerCase();
    if (!q) { show([]); return; }
    fetch(`${url}?q=${encodeURIComponent(q)}`, {headers: {Accept: "application/json"}, credentials: "same-origin"})
      .then((r) => (r.ok ? r.json() : {results: []}))
      .then((data) => { if (input.value.trim().toLowerCase() === lastQuery) show(data.results || []); })
      .catch(() => show([]));
  }

  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(lookup, 150); });
  input.addEventListener("focus", () => { if (results.length && input.value) { list.hidden = false; input.setAttribute("aria-expanded", "true"); } });
  input.addEventListener("blur", () => setTimeout(close, 100));
  input.addEventListener("keydown", (e) => {
    if (list.hidden) {
      if (e.key === "ArrowDown" && input.value) { lastQuery = ""; lookup(); e.preventDefault(); }
      return;
    }
    if (e.key === "ArrowDown") { highlight(Math.min(active + 1, results.length - 1)); e.preventDefault(); }
    else if (e.key === "ArrowUp") { highlight(Math.max(active - 1, 0)); e.preventDefault(); }
    else if (e.key === "Enter" && active >= 0) { choose(active); e.preventDefault(); }
    else if (e.key === "Escape") { close(); e.preventDefault(); }
    else if (e.key === "Tab" && active >= 0) choose(active);
  });
})();

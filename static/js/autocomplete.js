// Search-box suggestions (diagnoses and tags) from /api/autocomplete into the input's <datalist>.
// Progressive enhancement only: without JS the search form works as a plain GET form.
(function () {
  "use strict";
  function attach(input) {
    var url = input.getAttribute("data-autocomplete-url");
    var list = document.getElementById(input.getAttribute("list"));
    if (!url || !list || !window.fetch) return;
    var timer = null, last = "", controller = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = input.value.trim();
        if (q.length < 2 || q === last) return;
        last = q;
        if (controller) controller.abort();
        controller = window.AbortController ? new AbortController() : null;
        fetch(url + "?q=" + encodeURIComponent(q), {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
          signal: controller ? controller.signal : undefined,
        })
          .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
          .then(function (data) {
            list.textContent = "";
            (data.suggestions || []).forEach(function (s) {
              var opt = document.createElement("option");
              opt.value = s.text; // textContent/value: never parsed as HTML
              opt.label = s.kind === "tag" ? "#" + s.text : s.text;
              list.appendChild(opt);
            });
          })
          .catch(function () { /* aborted or offline: keep the old suggestions */ });
      }, 150);
    });
  }
  document.querySelectorAll("input[data-autocomplete-url]").forEach(attach);
})();

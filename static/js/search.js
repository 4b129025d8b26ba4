// Search page: apply a facet as soon as its checkbox changes (the "Apply filters" button does
// the same without JS), going back to the first page.
(function () {
  "use strict";
  var form = document.getElementById("search-form");
  if (!form) return;
  form.querySelectorAll(".facet input[type=checkbox]").forEach(function (box) {
    box.addEventListener("change", function () { form.submit(); });
  });
  var apply = form.querySelector(".apply-filters");
  if (apply) apply.hidden = true;
  // On a phone the filters start folded, so the results come first (open on a wide screen).
  var panel = form.querySelector(".facets-panel");
  if (panel && window.matchMedia("(max-width: 800px)").matches) panel.open = false;
})();

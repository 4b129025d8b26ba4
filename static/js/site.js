// Behaviour every page shares. No inline scripts anywhere: the Content-Security-Policy
// (script-src 'self') would block them.
(function () {
  "use strict";
  // The language switcher in the header applies the choice at once.
  const select = document.getElementById("lang-select");
  if (select) select.addEventListener("change", () => select.form.submit());
})();

// The webstore's few behaviours, bound by data attributes so the pages need
// no inline script (the Content-Security-Policy allows scripts from this
// origin only): a filter that submits its form when changed, and a print
// button. Without JavaScript the filter's form still has its button-less
// GET submit on Enter, and the receipt prints from the browser's menu.
(function () {
  "use strict";
  function ready(fn) { if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn); }
  ready(function () {
    document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () { if (el.form) el.form.submit(); });
    });
    document.querySelectorAll("[data-print]").forEach(function (el) {
      el.addEventListener("click", function () { window.print(); });
    });
  });
})();

// The staff console's few scripts: the simulator's sample picker and its
// small scenario builder, which only edit the JSON textarea (the form posts
// the textarea, so the page works without them).
(function () {
  "use strict";
  function ready(fn) { if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn); }
  ready(function () {
    var ta = document.getElementById("sim-json");
    if (!ta) return;
    var sample = document.getElementById("sim-sample");
    if (sample) sample.addEventListener("change", function () { if (sample.value) ta.value = sample.value; });
    function val(id) { var el = document.getElementById(id); return el ? el.value.trim() : ""; }
    function load() {
      try { var s = JSON.parse(ta.value || "{}"); } catch (e) { alert("JSON: " + e.message); return null; }
      s.name = s.name || "scenario"; s.accounts = s.accounts || []; s.campaigns = s.campaigns || []; s.events = s.events || [];
      return s;
    }
    document.querySelectorAll("[data-build]").forEach(function (b) {
      b.addEventListener("click", function () {
        var s = load(); if (!s) return;
        switch (b.getAttribute("data-build")) {
          case "account":
            s.accounts.push({ id: val("b-acct") || "a" + (s.accounts.length + 1), region: val("b-region"), plan: val("b-plan"),
              payment_method: val("b-pay") || null });
            break;
          case "campaign":
            s.campaigns.push({ id: val("b-camp") || "c" + (s.campaigns.length + 1), face_value: parseInt(val("b-face") || "800", 10),
              valid_from: val("b-from") || "2024-06-07T00:00:00+08:00", valid_until: val("b-until") || "2024-08-31T23:59:59+08:00",
              codes: val("b-codes").split(/[,\s]+/).filter(Boolean) });
            break;
          case "event":
            var e = { at: val("b-at"), "do": val("b-do") }, arg = val("b-arg");
            if (e["do"] !== "renew" && e["do"] !== "collect") e.account = val("b-eacct");
            if (e["do"] === "renew" && arg) e.month = arg;
            if (e["do"] === "set_payment_outcome") e.outcome = arg || "ok";
            if (e["do"] === "register_code") e.code = arg;
            if (e["do"] === "upgrade" || e["do"] === "downgrade") e.plan = arg;
            if (e["do"] === "set_payment_method") e.payment_method = arg || null;
            if (e["do"] === "preview") { var p = arg.split(/[\s:]+/); e.action = p[0] || "renew"; if (p[1]) e.plan = p[1]; }
            s.events.push(e);
            break;
        }
        ta.value = JSON.stringify(s, null, 2);
      });
    });
  });
})();

// Switchboard portal: the one script. Every page works without it; it only refreshes the
// dashboard's figures, a click-to-dial attempt's progress and a CSV import's progress bar in
// place (served as a file: the CSP allows no inline script).
"use strict";
(function () {
  var live = document.getElementById("live");
  if (!live || !window.fetch) { return; }
  var url = live.getAttribute("data-live");
  function cell(text) { var td = document.createElement("td"); td.textContent = text; return td; }
  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) {
        if (!d) { return; }
        ["registered", "calls_up", "calls_in_setup", "calls_per_minute"].forEach(function (k) {
          var el = document.getElementById(k);
          if (el && d[k] !== undefined) { el.textContent = String(d[k]); }
        });
        var body = document.querySelector("#failures tbody");
        if (body && d.failures) {
          var rows = d.failures.map(function (f) {
            var tr = document.createElement("tr");
            tr.appendChild(cell(f[0])); tr.appendChild(cell(f[1]));
            return tr;
          });
          if (rows.length) { body.replaceChildren.apply(body, rows); }
        }
        live.setAttribute("data-updated", String(Date.now()));
      })
      .catch(function () { /* the next tick tries again */ });
  }
  setInterval(refresh, 5000);
})();
(function () {
  // Click-to-dial: follow the attempt until nothing more will happen to it.
  var p = document.getElementById("dial-progress");
  if (!p || !window.fetch || p.getAttribute("data-settled") === "true") { return; }
  var url = p.getAttribute("data-status");
  var timer = setInterval(function () {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) {
        if (!d) { return; }
        p.textContent = d.text;
        p.setAttribute("data-step", d.step.step);
        if (d.settled) { p.setAttribute("data-settled", "true"); clearInterval(timer); }
      })
      .catch(function () { /* the next tick tries again */ });
  }, 1000);
})();
(function () {
  // CSV import: move the progress bar; reload for the report once finished.
  var bar = document.getElementById("import-progress");
  if (!bar || !window.fetch || bar.getAttribute("data-finished") === "true") { return; }
  var url = bar.getAttribute("data-status");
  var count = document.getElementById("import-count");
  var timer = setInterval(function () {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) {
        if (!d) { return; }
        bar.value = d.done;
        if (count) { count.textContent = d.done + " / " + d.total; }
        if (d.finished) { clearInterval(timer); window.location.reload(); }
      })
      .catch(function () { /* the next tick tries again */ });
  }, 500);
})();

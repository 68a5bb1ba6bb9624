// The agent's live page: reload every 30 s so the dispatcher's changes show up,
// unless the agent is typing a note or a date (nothing typed is ever thrown away).
(function () {
  "use strict";
  var PERIOD_MS = 30000;
  function busy() {
    var el = document.activeElement;
    if (el && (el.tagName === "TEXTAREA" || el.tagName === "INPUT")) { return true; }
    var fields = document.querySelectorAll("textarea, input[type=date]");
    for (var i = 0; i < fields.length; i++) { if (fields[i].value) { return true; } }
    return false;
  }
  setInterval(function () {
    if (!busy() && navigator.onLine !== false) { window.location.replace(window.location.pathname); }
  }, PERIOD_MS);
})();

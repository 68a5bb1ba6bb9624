// The console's small helpers: every state-changing call carries the CSRF token, and
// text from the server is put in the page with textContent only (never innerHTML).
"use strict";
var FR = (function () {
  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }
  function api(method, url, body) {
    var opts = { method: method, headers: { "X-CSRF-Token": csrf() }, credentials: "same-origin" };
    if (body instanceof FormData) { opts.body = body; }
    else if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(url, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        return { status: r.status, ok: r.ok, data: data };
      });
    });
  }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }
  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }
  function list(node, items) {
    clear(node);
    items.forEach(function (t) { node.appendChild(el("li", t)); });
  }
  var out = document.getElementById("logout");
  if (out) {
    out.addEventListener("click", function () {
      api("POST", "/api/logout").then(function () { window.location = "/login"; });
    });
  }
  return { api: api, el: el, clear: clear, list: list, csrf: csrf };
})();

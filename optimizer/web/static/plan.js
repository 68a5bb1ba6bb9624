// The plan page: map, timeline, figures, unassigned, the move form with its live check.
// Every text from the server goes in with textContent (FR.el), never as HTML.
"use strict";
(function () {
  var COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
    "#17becf", "#bcbd22", "#7f7f7f"];
  var view = null;
  var map = L.map("map", { zoomControl: true }).setView([0, 0], 2);
  var layer = L.layerGroup().addTo(map);
  var status = document.getElementById("status");
  var dateInput = document.getElementById("date");
  if (!dateInput.value) {
    var q = new URLSearchParams(window.location.search).get("date");
    dateInput.value = q || new Date().toISOString().slice(0, 10);
  }

  function hm(s) {
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h < 10 ? "0" : "") + h + ":" + (m < 10 ? "0" : "") + m;
  }
  function say(text, cls) { status.textContent = text; status.className = cls || ""; }

  function details(visitId) {
    FR.api("GET", "/api/visits/" + encodeURIComponent(visitId)).then(function (r) {
      var dl = document.getElementById("details");
      FR.clear(dl);
      if (!r.ok) { dl.appendChild(FR.el("dd", r.data.detail || "not found", "error")); return; }
      ["visit_id", "name", "phone", "address", "notes", "documents", "status", "attempts",
        "last_outcome", "reason", "attention"].forEach(function (k) {
        dl.appendChild(FR.el("dt", k));
        dl.appendChild(FR.el("dd", r.data[k]));
      });
      document.getElementById("move-visit").value = visitId;
      check();
    });
  }

  function drawMap() {
    layer.clearLayers();
    var bounds = [], outliers = [];
    view.routes.forEach(function (r, k) {
      var color = COLORS[k % COLORS.length];
      var line = r.line.filter(function (p) { return p; });
      if (line.length > 1) { L.polyline(line, { color: color, weight: 3 }).addTo(layer); }
      if (r.home) {
        L.circleMarker(r.home, { radius: 7, color: color, fillOpacity: 1 })
          .bindTooltip(FR.el("span", r.agent_id + " (base)")).addTo(layer);
        bounds.push(r.home);
      }
      r.stops.forEach(function (s) {
        if (!s.at) { return; }
        var m = L.circleMarker(s.at, { radius: 6, color: color, fillOpacity: 0.6 });
        m.bindTooltip(FR.el("span", s.seq + ". " + s.visit_id + " " + hm(s.start_s)));
        m.on("click", function () { details(s.visit_id); });
        m.addTo(layer);
        bounds.push(s.at);
      });
    });
    view.unassigned.forEach(function (u) {
      if (!u.at) { return; }
      L.circleMarker(u.at, { radius: 6, color: "#000", dashArray: "2,3", fillOpacity: 0 })
        .bindTooltip(FR.el("span", u.visit_id + ": " + u.reason)).addTo(layer);
      outliers.push(u.at);
    });
    // fit the routes; unassigned visits far away (often why they are) would shrink them
    bounds = bounds.length ? bounds : outliers;
    if (bounds.length) { map.fitBounds(bounds, { padding: [20, 20] }); }
  }

  function span(row, cls, from, to, lo, hi, text, title) {
    if (to <= from) { return null; }
    var e = FR.el("span", text, cls);
    e.style.left = (100 * (from - lo) / (hi - lo)) + "%";
    e.style.width = (100 * (to - from) / (hi - lo)) + "%";
    if (title) { e.title = title; }
    row.appendChild(e);
    return e;
  }

  function drawTimeline() {
    var box = document.getElementById("timeline");
    FR.clear(box);
    var lo = Infinity, hi = -Infinity;
    view.routes.forEach(function (r) { lo = Math.min(lo, r.shift[0]); hi = Math.max(hi, r.shift[1]); });
    if (!isFinite(lo)) { return; }
    view.routes.forEach(function (r) {
      var row = FR.el("div", null, "agent-row");
      row.appendChild(FR.el("strong", r.agent_id));
      var bar = FR.el("div", null, "timeline");
      bar.dataset.agent = r.agent_id;
      var prevEnd = r.depart_s;
      r.stops.forEach(function (s) {
        var travelFrom = s.arrive_s - Math.round(s.travel_min * 60);
        span(bar, "t-travel", Math.max(prevEnd, travelFrom), s.arrive_s, lo, hi, "", "travel " + s.travel_min + " min");
        span(bar, "t-wait", s.arrive_s, s.start_s, lo, hi, "", "waiting " + s.wait_min + " min");
        var v = span(bar, "t-visit" + (s.locked ? " t-locked" : ""), s.start_s, s.end_s, lo, hi,
          s.visit_id, s.visit_id + " " + hm(s.start_s) + "-" + hm(s.end_s));
        if (v) {
          v.dataset.visit = s.visit_id;
          v.draggable = true;
          v.addEventListener("click", function () { details(s.visit_id); });
          v.addEventListener("dragstart", function (ev) { ev.dataTransfer.setData("text/plain", s.visit_id); });
        }
        prevEnd = s.end_s;
      });
      if (r.break_s) { span(bar, "t-break", r.break_s[0], r.break_s[1], lo, hi, "break", "break"); }
      span(bar, "t-travel", prevEnd, r.return_s, lo, hi, "", "back to base");
      bar.addEventListener("dragover", function (ev) { ev.preventDefault(); });
      bar.addEventListener("drop", function (ev) {
        ev.preventDefault();
        var vid = ev.dataTransfer.getData("text/plain");
        var rect = bar.getBoundingClientRect();
        var t = lo + (hi - lo) * (ev.clientX - rect.left) / rect.width;
        var pos = r.stops.filter(function (s) { return s.visit_id !== vid && s.start_s < t; }).length;
        document.getElementById("move-visit").value = vid;
        document.getElementById("move-agent").value = r.agent_id;
        document.getElementById("move-position").value = pos + 1;
        check();
      });
      row.appendChild(bar);
      row.appendChild(FR.el("span", r.visits + " visits, " + r.travel_min + " min travel"));
      box.appendChild(row);
    });
  }

  function drawTables() {
    var body = document.querySelector("#figures tbody");
    FR.clear(body);
    view.routes.forEach(function (r) {
      var tr = FR.el("tr");
      var wait = r.stops.reduce(function (a, s) { return a + s.wait_min; }, 0);
      [r.agent_id, r.visits, hm(r.depart_s), hm(r.return_s), r.travel_min, r.distance_km,
        Math.round(wait * 10) / 10].forEach(function (x) { tr.appendChild(FR.el("td", x)); });
      body.appendChild(tr);
    });
    var un = document.getElementById("unassigned");
    FR.clear(un);
    if (!view.unassigned.length) { un.appendChild(FR.el("li", "none")); }
    view.unassigned.forEach(function (u) {
      var li = FR.el("li", u.visit_id + ": " + u.reason);
      li.dataset.visit = u.visit_id;
      li.addEventListener("click", function () { details(u.visit_id); });
      un.appendChild(li);
    });
    var vs = document.getElementById("move-visit"), as = document.getElementById("move-agent");
    var keep = [vs.value, as.value];
    FR.clear(vs); FR.clear(as);
    view.routes.forEach(function (r) {
      r.stops.forEach(function (s) {
        var o = FR.el("option", s.visit_id + " (" + r.agent_id + " #" + s.seq + ")"); o.value = s.visit_id; vs.appendChild(o);
      });
    });
    view.unassigned.forEach(function (u) {
      var o = FR.el("option", u.visit_id + " (unassigned)"); o.value = u.visit_id; vs.appendChild(o);
    });
    view.agents.forEach(function (a) { var o = FR.el("option", a); o.value = a; as.appendChild(o); });
    var none = FR.el("option", "(take out of every route)"); none.value = ""; as.appendChild(none);
    if (keep[0]) { vs.value = keep[0]; }
    if (keep[1]) { as.value = keep[1]; }
  }

  function load() {
    var date = dateInput.value;
    return FR.api("GET", "/api/plans/" + date + "/view").then(function (r) {
      if (!r.ok) { view = null; say(r.data.detail || "no plan", "error"); return; }
      view = r.data;
      var s = view.summary;
      say("Plan " + view.date + " v" + view.version + ": " + s.assigned + " of " + s.visits +
        " visits planned, " + s.unassigned + " unassigned, " + s.travel_min + " min travel.", "ok");
      drawMap(); drawTimeline(); drawTables();
      window.history.replaceState(null, "", "/?date=" + date);
    });
  }

  function moveBody() {
    var pos = document.getElementById("move-position").value;
    var agent = document.getElementById("move-agent").value;
    return {
      visit_id: document.getElementById("move-visit").value,
      agent_id: agent === "" ? null : agent,
      position: pos === "" ? null : Math.max(0, parseInt(pos, 10) - 1),
      lock: document.getElementById("move-lock").checked,
      version: view ? view.version : null
    };
  }

  function showViolations(r) {
    var st = document.getElementById("check-status");
    var list = document.getElementById("violations");
    if (r.data.ok) { st.textContent = "This move breaks nothing."; st.className = "ok"; FR.clear(list); return; }
    st.className = "error";
    st.textContent = r.data.violations ? "This move breaks:" : (r.data.detail || "refused");
    FR.list(list, (r.data.violations || []).map(function (v) { return v.message; }));
  }

  function check() {
    if (!view) { return; }
    FR.api("POST", "/api/plans/" + view.date + "/check", moveBody()).then(showViolations);
  }

  ["move-visit", "move-agent", "move-position"].forEach(function (id) {
    document.getElementById(id).addEventListener("change", check);
    document.getElementById(id).addEventListener("input", check);
  });
  document.getElementById("move-save").addEventListener("click", function () {
    FR.api("POST", "/api/plans/" + view.date + "/moves", moveBody()).then(function (r) {
      showViolations(r);
      if (r.ok) { document.getElementById("check-status").textContent = "Saved as version " + r.data.version + "."; load(); }
    });
  });
  document.getElementById("lock-toggle").addEventListener("click", function () {
    if (!view) { return; }
    var vid = document.getElementById("move-visit").value;
    var locked = view.locked.indexOf(vid) < 0;
    FR.api("POST", "/api/plans/" + view.date + "/locks", { visit_id: vid, locked: locked, version: view.version }).then(function (r) {
      var st = document.getElementById("check-status");
      st.className = r.ok ? "ok" : "error";
      st.textContent = r.ok ? (vid + (locked ? " locked" : " unlocked") + " (version " + r.data.version + ").") : (r.data.detail || "refused");
      if (r.ok) { load(); }
    });
  });
  document.getElementById("load").addEventListener("click", load);
  document.getElementById("plan").addEventListener("click", function () {
    var days = parseInt(document.getElementById("days").value, 10) || 1;
    say("Planning " + dateInput.value + (days > 1 ? " and the next " + (days - 1) + " working days" : "") + "…");
    var limit = parseFloat(document.getElementById("time-limit").value) || null;
    FR.api("POST", "/api/plans/" + dateInput.value, { time_limit: limit, days: days }).then(function (r) {
      if (!r.ok) { say(r.data.detail || "planning failed", "error"); return; }
      if (days > 1) {
        // the horizon: show its first day; the others open by changing the date
        var parts = r.data.days.map(function (d) { return d.date + ": " + d.routed; });
        load().then(function () {
          if (!view) { return; }
          say("Planned " + parts.join(", ") + "; " + r.data.unassigned.length +
            " not fitted (stay pending). Showing the first day.", "ok");
        });
        return;
      }
      load();
    });
  });
  document.getElementById("solve").addEventListener("click", function () {
    if (!view) { return; }
    say("Re-optimising around " + view.locked.length + " locked visits…");
    var limit = parseFloat(document.getElementById("time-limit").value) || null;
    FR.api("POST", "/api/plans/" + view.date + "/solve", { time_limit: limit, version: view.version }).then(function (r) {
      if (!r.ok) {
        say(r.data.detail || "the locked visits cannot be kept", "error");
        FR.list(document.getElementById("violations"), (r.data.violations || []).map(function (v) { return v.message; }));
        return;
      }
      load();
    });
  });
  load();
})();

"use strict";
(function () {
  var dateInput = document.getElementById("date");
  if (!dateInput.value) { dateInput.value = new Date().toISOString().slice(0, 10); }
  var map = L.map("map").setView([30.66, 104.06], 11);
  var pin = null;
  map.on("click", function (e) {
    document.getElementById("lat").value = e.latlng.lat.toFixed(6);
    document.getElementById("lon").value = e.latlng.lng.toFixed(6);
    if (pin) { pin.setLatLng(e.latlng); } else { pin = L.circleMarker(e.latlng, { radius: 7 }).addTo(map); }
  });
  FR.api("GET", "/api/plans/" + dateInput.value + "/view").then(function (r) {
    if (!r.ok) { return; }
    var pts = [];
    r.data.routes.forEach(function (rt) {
      rt.stops.forEach(function (s) { if (s.at) { pts.push(s.at); L.circleMarker(s.at, { radius: 3, color: "#888" }).addTo(map); } });
    });
    if (pts.length) { map.fitBounds(pts, { padding: [20, 20] }); }
  });
  var st = document.getElementById("slot-status");
  function val(id) { return document.getElementById(id).value; }
  function find() {
    var q = new URLSearchParams({ date: val("date"), duration: val("duration"),
      skills: val("skills"), window_width: val("width") });
    if (val("lat") && val("lon")) { q.set("lat", val("lat")); q.set("lon", val("lon")); }
    else { q.set("address", val("where")); }
    var body = document.querySelector("#slots tbody");
    FR.clear(body);
    FR.api("GET", "/api/slots?" + q.toString()).then(function (r) {
      if (!r.ok) { st.className = "error"; st.textContent = typeof r.data.detail === "string" ? r.data.detail : "check the fields"; return; }
      document.getElementById("lat").value = r.data.lat;
      document.getElementById("lon").value = r.data.lon;
      if (!document.getElementById("address").value) { document.getElementById("address").value = val("where"); }
      st.className = r.data.slots.length ? "ok" : "error";
      st.textContent = r.data.slots.length ? r.data.slots.length + " windows can be offered." : r.data.why;
      function row(s, date) {
        var tr = FR.el("tr");
        var when = (date === val("date") ? "" : date + " ") + s.window_start + "-" + s.window_end;
        [when, s.agent_id, s.start, s.extra_travel_min].forEach(function (x) { tr.appendChild(FR.el("td", x)); });
        var b = FR.el("button", "Book");
        b.type = "button";
        b.className = "book-slot";
        b.addEventListener("click", function () { book(s, date); });
        var td = FR.el("td"); td.appendChild(b); tr.appendChild(td);
        body.appendChild(tr);
      }
      r.data.slots.forEach(function (s) { row(s, r.data.date); });
      (r.data.later || []).forEach(function (d) { d.slots.forEach(function (s) { row(s, d.date); }); });
      if (!r.data.slots.length && (r.data.later || []).length) {
        st.textContent = r.data.why + " Later days can be offered instead.";
      }
    });
  }
  function book(s, date) {
    FR.api("POST", "/api/plans/" + (date || val("date")) + "/bookings", {
      visit_id: val("visit-id"), name: val("name"), phone: val("phone"), address: val("address"),
      lat: parseFloat(val("lat")), lon: parseFloat(val("lon")), duration: parseFloat(val("duration")),
      skills: val("skills"), window_start_s: s.window_start_s, window_width: parseInt(val("width"), 10),
      agent_id: s.agent_id
    }).then(function (r) {
      if (!r.ok) { st.className = "error"; st.textContent = r.data.detail || "not booked"; return; }
      st.className = "ok";
      st.textContent = "Booked " + r.data.visit_id + " with " + r.data.slot.agent_id + ", " +
        r.data.slot.window_start + "-" + r.data.slot.window_end + " (plan v" + r.data.version + ").";
      document.getElementById("notice").textContent = r.data.notice;
      FR.clear(document.querySelector("#slots tbody"));
    });
  }
  document.getElementById("find").addEventListener("click", find);
})();

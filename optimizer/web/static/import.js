"use strict";
(function () {
  document.getElementById("import").addEventListener("click", function () {
    var form = new FormData();
    var v = document.getElementById("visits-file").files[0];
    var a = document.getElementById("agents-file").files[0];
    if (v) { form.append("visits", v); }
    if (a) { form.append("agents", a); }
    var st = document.getElementById("import-status");
    var body = document.querySelector("#import-errors tbody");
    FR.clear(body);
    st.textContent = "Importing…"; st.className = "";
    FR.api("POST", "/api/import", form).then(function (r) {
      if (r.ok) {
        var d = r.data;
        st.className = "ok";
        st.textContent = "Imported: visits " + d.added + " added, " + d.updated + " updated, " +
          d.unchanged + " unchanged; agents " + d.agents_added + " added, " + d.agents_updated +
          " updated, " + d.agents_unchanged + " unchanged.";
        return;
      }
      st.className = "error";
      st.textContent = (r.data.detail || "import failed") + (r.data.errors ? " (" + r.data.errors.length + " problems)" : "");
      (r.data.errors || []).forEach(function (e) {
        var tr = FR.el("tr");
        [e.source, e.row, e.column, e.value, e.problem].forEach(function (x) { tr.appendChild(FR.el("td", x)); });
        body.appendChild(tr);
      });
    });
  });
})();

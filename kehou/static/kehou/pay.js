// The pay page's total follows the optional materials' box (unticked by default: the materials are opt-in).
// Progressive enhancement only: without this file the page shows the total without the materials and says what
// it is with them; the server charges the prices the page showed either way.
(function () {
  "use strict";

  document.querySelectorAll("[data-pay-lines]").forEach(function (table) {
    var box = table.querySelector("[data-materials]");
    var total = table.querySelector("[data-pay-total]");
    var materialsLine = table.querySelector("[data-materials-line]");
    var note = document.querySelector("[data-total-note]");
    if (!box || !total) return;

    function update() {
      var ticked = box.checked;
      total.textContent = table.getAttribute(ticked ? "data-with-materials" : "data-without-materials");
      if (materialsLine) materialsLine.classList.toggle("muted", !ticked);
    }

    if (note) note.hidden = true; // the total itself now says it
    box.addEventListener("change", update);
    update(); // a box the browser restored as ticked (back button) shows its total at once
  });
})();

// On a phone, tables are shown as cards (admin.css): each cell is labelled with its column's heading,
// copied here from the table's header so that templates need not repeat it.
(function () {
  "use strict";
  document.querySelectorAll("main table").forEach(function (table) {
    var headings = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.trim();
    });
    if (!headings.length) { return; }
    table.classList.add("cards");
    table.querySelectorAll("tbody tr").forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (cell, index) {
        if (!cell.hasAttribute("data-label") && headings[index] && !cell.hasAttribute("colspan")) {
          cell.setAttribute("data-label", headings[index]);
        }
      });
    });
  });
}());

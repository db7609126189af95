// Draws the overview's charts from the JSON the page carries (no inline script: the CSP forbids it).
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var palette = ["#075e54", "#128c7e", "#25d366", "#34b7f1", "#f4a261", "#e76f51", "#6d597a", "#b56576", "#a3a380", "#264653"];
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var series = data[canvas.dataset.chart];
    var type = canvas.dataset.type;
    new Chart(canvas, {
      type: type,
      data: {
        labels: series.labels,
        datasets: [{
          label: "Members",
          data: series.values,
          backgroundColor: type === "line" ? "#128c7e33" : palette,
          borderColor: type === "line" ? "#075e54" : palette,
          fill: type === "line"
        }]
      },
      options: {
        animation: false,
        responsive: true,
        plugins: { legend: { display: type === "doughnut" } },
        scales: type === "doughnut" ? {} : { y: { beginAtZero: true, ticks: { precision: 0 } } }
      }
    });
    canvas.dataset.drawn = "true";
  });
}());

// Draws the charts of a page from the JSON it carries (no inline script: the CSP forbids it): a series is
// {labels, values} (one set of bars or a line) or {labels, datasets: [{label, values}]} (several series side by side).
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var palette = ["#075e54", "#128c7e", "#25d366", "#34b7f1", "#f4a261", "#e76f51", "#6d597a", "#b56576", "#a3a380", "#264653"];
  var contrasting = ["#6d597a", "#34b7f1", "#25d366", "#e76f51", "#f4a261", "#075e54"];  // several series side by side
  // Every bar and point carries its number (the tables beside the charts hold the same figures).
  var numbers = {
    id: "numbers",
    afterDatasetsDraw: function (chart) {
      var context = chart.ctx;
      var horizontal = chart.options.indexAxis === "y";
      context.save();
      context.fillStyle = "#222";
      context.font = "12px sans-serif";
      var several = chart.data.datasets.length > 1;
      chart.data.datasets.forEach(function (dataset, number) {
        chart.getDatasetMeta(number).data.forEach(function (element, index) {
          var value = dataset.data[index];
          if (several && !value) { return; }  // several series: a zero draws nothing, and its number would pile up on the others
          var text = Number(value).toLocaleString("en");
          if (horizontal) {
            context.textAlign = "left";
            context.textBaseline = "middle";
            context.fillText(text, element.x + 4, element.y);
          } else {
            context.textAlign = "center";
            context.textBaseline = "bottom";
            context.fillText(text, element.x, element.y - 2);
          }
        });
      });
      context.restore();
    }
  };
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var series = data[canvas.dataset.chart];
    var type = canvas.dataset.type;
    var horizontal = canvas.dataset.axis === "y";
    var valueAxis = { beginAtZero: true, grace: "12%", ticks: { precision: 0 } };
    var categoryAxis = { ticks: { autoSkip: false } };
    if (horizontal) {  // long category lists: one row per label, every label shown
      canvas.parentNode.style.height = (series.labels.length * 28 + 60) + "px";
    }
    var datasets = series.datasets ? series.datasets.map(function (set, index) {
      var colour = contrasting[index % contrasting.length];
      return { label: set.label, data: set.values, backgroundColor: colour, borderColor: colour, fill: false };
    }) : [{
      label: "Members",
      data: series.values,
      backgroundColor: type === "line" ? "#128c7e33" : palette,
      borderColor: type === "line" ? "#075e54" : palette,
      fill: type === "line"
    }];
    new Chart(canvas, {
      plugins: [numbers],
      type: type,
      data: { labels: series.labels, datasets: datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: !horizontal,
        indexAxis: horizontal ? "y" : "x",
        layout: { padding: { top: 16, right: 24 } },
        plugins: { legend: { display: datasets.length > 1 } },
        scales: horizontal ? { x: valueAxis, y: categoryAxis } : { y: valueAxis, x: categoryAxis }
      }
    });
    canvas.dataset.drawn = "true";
  });
}());

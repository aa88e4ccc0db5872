// Bar charts drawn from the tables under them (the tables stay: they are the no-JavaScript view and the data).
(function () {
  "use strict";
  function draw(tableId, canvasId) {
    var table = document.getElementById(tableId), canvas = document.getElementById(canvasId);
    if (!table || !canvas || typeof Chart === "undefined") { return; }
    var labels = [], values = [], links = [];
    table.querySelectorAll("tbody tr").forEach(function (row) {
      var a = row.querySelector("th a");
      labels.push(a ? a.textContent : row.querySelector("th").textContent);
      links.push(a ? a.getAttribute("href") : null);
      values.push(Number(row.querySelector("td").textContent));
    });
    new Chart(canvas, {
      type: "bar",
      data: { labels: labels, datasets: [{ data: values, backgroundColor: "#2171b5" }] },
      options: {
        indexAxis: "y", animation: false, responsive: true, maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
        onClick: function (event, elements) {
          if (elements.length && links[elements[0].index]) { window.location = links[elements[0].index]; }
        }
      }
    });
    canvas.parentElement.classList.add("charted");
    var details = table.closest("details");
    if (details) { details.open = false; }  // the chart shows it; the numbers stay one click away
  }
  draw("table-regions", "chart-regions");
  draw("table-themes", "chart-themes");
})();

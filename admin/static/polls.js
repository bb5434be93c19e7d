// The poll results' bar charts: each <canvas data-chart='{"labels": [...], "counts": [...]}'> is drawn by
// Chart.js (served by Loa Bản itself; no inline script, as the CSP requires), again whenever htmx brings
// fresher results.
"use strict";
function drawPollCharts(root) {
  if (typeof Chart === "undefined") return;
  for (const canvas of root.querySelectorAll("canvas.poll-chart[data-chart]")) {
    const data = JSON.parse(canvas.dataset.chart);
    new Chart(canvas, {
      type: "bar",
      data: { labels: data.labels, datasets: [{ data: data.counts, backgroundColor: "#1d6fa5" }] },
      options: {
        indexAxis: "y",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: false } },
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  }
}
document.addEventListener("DOMContentLoaded", () => drawPollCharts(document));
document.addEventListener("htmx:load", (event) => {
  if (event.target !== document.body) drawPollCharts(event.target);
});

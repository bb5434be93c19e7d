// The periodic report's charts: people subscribed by commune (bars) and month by month (a line), each
// <canvas data-kind data-chart='{"labels": [...], "counts": [...]}'> drawn by Chart.js, served by Loa Bản
// itself (no inline script, as the CSP requires).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  if (typeof Chart === "undefined") return;
  for (const canvas of document.querySelectorAll("canvas.report-chart[data-chart]")) {
    const data = JSON.parse(canvas.dataset.chart);
    const bar = canvas.dataset.kind === "bar";
    new Chart(canvas, {
      type: bar ? "bar" : "line",
      data: { labels: data.labels, datasets: [{ data: data.counts, backgroundColor: "#1d6fa5", borderColor: "#1d6fa5" }] },
      options: {
        indexAxis: bar ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: false } },
        scales: { [bar ? "x" : "y"]: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  }
});

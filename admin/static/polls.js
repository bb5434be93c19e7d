// The poll results' bar charts: each <canvas data-chart='{"labels": [...], "counts": [...]}'> is drawn by
// Chart.js (served by Loa Bản itself; no inline script, as the CSP requires).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  if (typeof Chart === "undefined") return;
  for (const canvas of document.querySelectorAll("canvas.poll-chart[data-chart]")) {
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
});

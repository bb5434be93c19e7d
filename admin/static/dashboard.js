// The dashboard's day-by-day charts: each <canvas data-chart='{"labels": [...], "series": [[...], ...]}'
// data-names='["…"]'> is drawn by Chart.js (served by Loa Bản itself; no inline script, as the CSP requires).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  if (typeof Chart === "undefined") return;
  const colours = ["#b3261e", "#1d6fa5"];
  for (const canvas of document.querySelectorAll("canvas.dashboard-chart[data-chart]")) {
    const data = JSON.parse(canvas.dataset.chart);
    const names = JSON.parse(canvas.dataset.names || "[]");
    new Chart(canvas, {
      type: canvas.dataset.kind || "bar",
      data: {
        labels: data.labels,
        datasets: data.series.map((values, i) => ({
          label: names[i] || "",
          data: values,
          backgroundColor: colours[i % colours.length],
          borderColor: colours[i % colours.length],
          pointRadius: 0,
        })),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: names.length > 1 } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  }
});

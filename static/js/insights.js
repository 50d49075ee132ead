// Insights charts: data comes from json_script tags (no inline scripts under CSP).
(() => {
  const draw = (canvasId, dataId, stacked) => {
    const canvas = document.getElementById(canvasId);
    const source = document.getElementById(dataId);
    if (!canvas || !source || typeof Chart === "undefined") return;
    const data = JSON.parse(source.textContent);
    const palette = ["#4263eb", "#e8590c", "#2b8a3e", "#c2255c", "#5f3dc4", "#0b7285"];
    data.datasets.forEach((set, i) => { set.backgroundColor = palette[i % palette.length]; });
    new Chart(canvas, {
      type: "bar",
      data,
      options: {
        maintainAspectRatio: false,
        animation: false,
        scales: {
          x: { stacked },
          y: { stacked, beginAtZero: true, ticks: { precision: 0 } },
        },
      },
    });
  };
  document.addEventListener("DOMContentLoaded", () => {
    draw("quarter-chart", "quarter-chart-data", true);
    draw("class-chart", "class-chart-data", false);
  });
})();

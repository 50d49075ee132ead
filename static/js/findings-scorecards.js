// Analyzer scorecards: a bar chart of the share of root causes confirmed.
// Data comes from json_script (#scorecard-data); the table beside has the numbers.
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("scorecard-data");
  const canvas = document.getElementById("scorecard-chart");
  if (!source || !canvas || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [
        {
          label: "Root causes confirmed (%)",
          data: data.confirmed,
          backgroundColor: "#4263eb",
        },
      ],
    },
    options: {
      animation: false,
      indexAxis: "y",
      maintainAspectRatio: false,
      scales: { x: { min: 0, max: 100, title: { display: true, text: "%" } } },
      plugins: { legend: { display: false } },
    },
  });
});

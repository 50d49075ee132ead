// Leadership dashboard charts. Data comes from the page (json_script); every
// chart has a table beside it with the same numbers, and a click on a bar opens
// the filtered list behind it.
(function () {
  "use strict";
  const source = document.getElementById("dashboard-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const listUrl = "/actions/";
  const palette = {
    bad: "#c92a2a",
    warn: "#e67700",
    ok: "#2b8a3e",
    blue: "#4263eb",
    grey: "#adb5bd",
  };
  Chart.defaults.font.family =
    'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif';
  Chart.defaults.color = "#495057";
  Chart.defaults.animation = false;

  function linkClick(links) {
    return (event, elements) => {
      if (!elements.length || !links) return;
      const query = links[elements[0].index];
      if (query !== undefined) window.location.href = listUrl + "?" + query;
    };
  }

  function pointer(event, elements) {
    event.native.target.style.cursor = elements.length ? "pointer" : "default";
  }

  function bar(id, series, options) {
    const canvas = document.getElementById(id);
    if (!canvas) return;
    if (!series.labels.length) {
      canvas.parentElement.classList.add("chart-empty");
      canvas.parentElement.textContent = "Nothing to chart.";
      return;
    }
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: series.labels,
        // Few bars stay bars, not slabs.
        datasets: options.datasets.map((d) => ({ maxBarThickness: 34, ...d })),
      },
      options: {
        maintainAspectRatio: false,
        indexAxis: options.horizontal ? "y" : "x",
        onClick: linkClick(series.links),
        onHover: pointer,
        plugins: {
          legend: { display: options.datasets.length > 1, position: "bottom" },
          tooltip: options.tooltip || {},
        },
        scales: {
          x: { stacked: !!options.stacked, beginAtZero: true, grid: { display: !!options.horizontal } },
          y: {
            stacked: !!options.stacked,
            beginAtZero: true,
            max: options.max,
            grid: { display: !options.horizontal },
            ticks: options.percent ? { callback: (v) => v + "%" } : { precision: 0 },
          },
        },
      },
    });
  }

  bar("chart-overdue-team", data.overdue_by_team, {
    horizontal: true,
    datasets: [{ label: "Overdue", data: data.overdue_by_team.values, backgroundColor: palette.bad }],
  });
  bar("chart-age", data.age, {
    datasets: [{
      label: "Open items",
      data: data.age.values,
      backgroundColor: [palette.ok, palette.warn, palette.bad],
    }],
  });
  bar("chart-on-time", data.on_time, {
    max: 100,
    percent: true,
    datasets: [{
      label: "Done by due date",
      data: data.on_time.values,
      backgroundColor: data.on_time.values.map((v) =>
        v === null ? palette.grey : v >= 80 ? palette.ok : v >= 50 ? palette.warn : palette.bad),
    }],
    tooltip: { callbacks: { label: (ctx) => (ctx.raw === null ? "nothing came due" : ctx.raw + "% on time") } },
  });
  // Long category names wrap onto two lines instead of tilting.
  data.category.labels = data.category.labels.map((label) => label.split(" / "));
  bar("chart-category", data.category, {
    stacked: true,
    datasets: [
      { label: "Open", data: data.category.open, backgroundColor: palette.warn },
      { label: "Done", data: data.category.done, backgroundColor: palette.ok },
    ],
  });
  bar("chart-owner", data.overdue_by_owner, {
    horizontal: true,
    datasets: [{ label: "Overdue", data: data.overdue_by_owner.values, backgroundColor: palette.bad }],
  });
})();

// Insights charts: data comes from json_script tags (no inline scripts under CSP).
(() => {
  const palette = ["#4263eb", "#e8590c", "#2b8a3e", "#c2255c", "#5f3dc4", "#0b7285"];
  const read = (id) => {
    const source = document.getElementById(id);
    return source ? JSON.parse(source.textContent) : null;
  };

  const drawCounts = (canvasId, dataId, stacked) => {
    const canvas = document.getElementById(canvasId);
    const data = read(dataId);
    if (!canvas || !data || typeof Chart === "undefined") return;
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

  const NICE_MINUTES = [1, 2, 5, 10, 20, 30, 60, 120, 240, 480, 1440, 2880, 10080, 43200];
  const minutes = (value) => {
    if (value === null || value === undefined) return "–";
    if (value < 60) return `${Math.round(value)} min`;
    if (value < 1440) return `${(value / 60).toFixed(value < 600 ? 1 : 0)} h`;
    return `${(value / 1440).toFixed(value < 14400 ? 1 : 0)} d`;
  };

  // Response times: one horizontal bar per group from the 25th to the 75th
  // percentile, a mark at the median, on a log scale (minutes to days).
  const drawDurations = () => {
    const canvas = document.getElementById("duration-chart");
    const data = read("duration-chart-data");
    if (!canvas || !data || typeof Chart === "undefined") return;
    const state = { metric: "TTM", group: "class" };
    const build = () => {
      const rows = data.groups[state.group].filter((g) => g.stats[state.metric].n > 0);
      const labels = rows.map((g) => `${g.label} (n=${g.stats[state.metric].n})`);
      return {
        labels,
        datasets: [
          {
            type: "bar",
            label: "Middle half (25th–75th percentile)",
            data: rows.map((g) => {
              const s = g.stats[state.metric];
              return [Math.max(s.p25, 0.5), Math.max(s.p75, 0.5)];
            }),
            backgroundColor: "rgba(66, 99, 235, 0.35)",
            borderColor: "#4263eb",
            borderWidth: 1,
            borderSkipped: false,
          },
          {
            type: "scatter",
            label: "Median",
            data: rows.map((g, i) => ({ x: Math.max(g.stats[state.metric].median, 0.5), y: labels[i] })),
            backgroundColor: "#c92a2a",
            borderColor: "#c92a2a",
            pointStyle: "line",
            pointRadius: 9,
            pointBorderWidth: 3,
            rotation: 90,
          },
        ],
      };
    };
    const chart = new Chart(canvas, {
      data: build(),
      options: {
        indexAxis: "y",
        maintainAspectRatio: false,
        animation: false,
        scales: {
          x: {
            type: "logarithmic",
            title: { display: true, text: "minutes (log scale)" },
            // Label round durations only; a log axis otherwise crowds its ticks.
            ticks: {
              autoSkip: false,
              callback: (value) => (NICE_MINUTES.includes(Number(value)) ? minutes(value) : ""),
            },
          },
          y: { type: "category" },
        },
        plugins: {
          tooltip: {
            callbacks: {
              label: (item) => {
                const raw = item.raw;
                if (Array.isArray(raw)) return `middle half: ${minutes(raw[0])} to ${minutes(raw[1])}`;
                return `median: ${minutes(raw.x)}`;
              },
            },
          },
        },
      },
    });
    const redraw = () => {
      chart.data = build();
      chart.update();
    };
    document.querySelectorAll("[data-duration-metric]").forEach((button) => {
      button.addEventListener("click", () => {
        state.metric = button.dataset.durationMetric;
        document.querySelectorAll("[data-duration-metric]").forEach((b) => {
          const on = b === button;
          b.classList.toggle("active", on);
          b.setAttribute("aria-pressed", on ? "true" : "false");
        });
        redraw();
      });
    });
    const group = document.getElementById("duration-group");
    if (group) {
      group.addEventListener("change", () => {
        state.group = group.value;
        redraw();
      });
    }
  };

  document.addEventListener("DOMContentLoaded", () => {
    drawCounts("quarter-chart", "quarter-chart-data", true);
    drawCounts("class-chart", "class-chart-data", false);
    drawDurations();
  });
})();

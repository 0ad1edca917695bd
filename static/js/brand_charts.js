// Brand page charts: reads the month's numbers from <script id="brand-chart-data"> and draws
// the pacing line chart and the daily bars with the vendored Chart.js. Without JavaScript
// the same numbers are in the table under "The numbers behind the charts".
(function () {
  "use strict";
  var source = document.getElementById("brand-chart-data");
  if (!source || typeof Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  // Amounts arrive as exact decimal strings; numbers are only for drawing.
  var num = function (value) { return value === null ? null : Number(value); };
  var series = function (values) { return values.map(num); };
  var flat = function (value) { return data.days.map(function () { return num(value); }); };
  // As the pages write money (app/money.py's format_money): "12,000.00 USD", the currency's decimals.
  var decimals = new Intl.NumberFormat("en-US", { style: "currency", currency: data.currency })
    .resolvedOptions().maximumFractionDigits;
  var grouped = new Intl.NumberFormat("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
  var money = { format: function (value) { return grouped.format(value) + " " + data.currency; } };
  var todayIndex = data.days.indexOf(data.today);

  var tooltip = {
    callbacks: {
      title: function (items) { return data.days[items[0].dataIndex]; },
      label: function (item) { return item.dataset.label + ": " + money.format(item.parsed.y); }
    }
  };
  var axes = function () {
    return {
      x: { title: { display: true, text: "Day of month" } },
      y: { beginAtZero: true, ticks: { callback: function (v) { return money.format(v); } } }
    };
  };
  // A fresh options object per chart: Chart.js keeps a reference to the one it is given.
  var options = function () {
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      plugins: { tooltip: tooltip, legend: { position: "bottom" } },
      scales: axes()
    };
  };

  var pacing = document.getElementById("pacing-chart");
  if (pacing) {
    new Chart(pacing, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [
          {
            label: "Cumulative spend",
            data: series(data.cumulative),
            borderColor: "#1f6feb",
            backgroundColor: "rgba(31, 111, 235, 0.12)",
            fill: true,
            tension: 0,
            pointRadius: data.days.map(function (_, i) { return i === todayIndex ? 4 : 0; }),
            spanGaps: false
          },
          {
            label: "Even pacing",
            data: series(data.even_pacing),
            borderColor: "#6b7280",
            borderDash: [6, 4],
            pointRadius: 0,
            fill: false
          },
          {
            label: "Monthly budget",
            data: flat(data.monthly_budget),
            borderColor: "#c62828",
            borderWidth: 1.5,
            pointRadius: 0,
            fill: false
          }
        ]
      },
      options: options()
    });
  }

  var daily = document.getElementById("daily-chart");
  if (daily) {
    new Chart(daily, {
      data: {
        labels: data.labels,
        datasets: [
          {
            type: "bar",
            label: "Spend",
            data: data.daily_spend.map(function (v, i) { return i > todayIndex && todayIndex >= 0 ? null : num(v); }),
            backgroundColor: data.daily_spend.map(function (v) {
              return num(v) >= num(data.daily_budget) ? "#c62828" : "#1f8a4c";
            }),
            order: 2
          },
          {
            type: "line",
            label: "Daily budget",
            data: flat(data.daily_budget),
            borderColor: "#c77700",
            borderWidth: 1.5,
            pointRadius: 0,
            fill: false,
            order: 1
          }
        ]
      },
      options: options()
    });
  }
})();

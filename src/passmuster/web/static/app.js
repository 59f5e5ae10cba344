// passmuster pages: local times, live-feed indicator, charts. No framework beyond htmx.
(function () {
  "use strict";

  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) return;
      var pad = function (n) { return String(n).padStart(2, "0"); };
      el.textContent = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) +
        " " + pad(d.getHours()) + ":" + pad(d.getMinutes());
      el.title = el.getAttribute("datetime");
    });
  }

  function charts() {
    var holder = document.getElementById("charts");
    if (!holder || typeof Chart === "undefined") return;
    var data = JSON.parse(holder.dataset.charts);
    var make = function (id, spec, options) {
      var canvas = document.getElementById(id);
      if (!canvas) return;
      var chart = new Chart(canvas, { type: "bar", data: spec, options: options });
      canvas.dataset.rendered = String(spec.datasets.reduce(function (n, ds) {
        return n + ds.data.reduce(function (a, b) { return a + b; }, 0);
      }, 0));
      return chart;
    };
    var base = { responsive: true, maintainAspectRatio: false, animation: false };
    make("chart-months", data.months, Object.assign({}, base, {
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } }
    }));
    make("chart-resolution", data.resolution, Object.assign({}, base, {
      plugins: { legend: { display: false } },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
    }));
    make("chart-sla", data.sla, Object.assign({}, base, {
      indexAxis: "y",
      scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }, y: { stacked: true } }
    }));
    holder.dataset.ready = "true";
  }

  // The Deployments page: DORA's four keys per week.
  function deliveryCharts() {
    var holder = document.getElementById("delivery-charts");
    if (!holder || typeof Chart === "undefined") return;
    var data = JSON.parse(holder.dataset.charts);
    var base = { responsive: true, maintainAspectRatio: false, animation: false };
    var draw = function (id, type, spec, options) {
      var canvas = document.getElementById(id);
      if (!canvas) return;
      new Chart(canvas, { type: type, data: spec, options: Object.assign({}, base, options) });
      canvas.dataset.rendered = String(spec.labels.length);
    };
    draw("chart-frequency", "bar", data.frequency, {
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } }
    });
    var line = { plugins: { legend: { display: false } }, spanGaps: true, scales: { y: { beginAtZero: true } } };
    draw("chart-lead", "line", data.lead, line);
    draw("chart-failure", "line", data.failure, line);
    draw("chart-restore", "line", data.restore, line);
    holder.dataset.ready = "true";
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    charts();
    deliveryCharts();
  });
  document.addEventListener("htmx:afterSwap", function (e) { localTimes(e.target); });
  document.addEventListener("htmx:sseOpen", function () { document.body.classList.add("live-connected"); });
  document.addEventListener("htmx:sseError", function () { document.body.classList.remove("live-connected"); });
})();

/* Draws the charts of the residents' voice console with the vendored ECharts.
 *
 * A chart is an element with data-vc-chart="<id>", where <id> names a <script type="application/json">
 * written by Django's json_script filter: {"type": "pie"|"bar"|"grouped", "labels": [...],
 * "values": [...]} or, for "grouped", "series": [{"name": ..., "values": [...]}] and "unit": "%".
 * The numbers come from the server; this file only draws them. A value of null (nothing to divide
 * by) is left out of the bar, not drawn as 0.
 */
(function () {
  "use strict";
  var PALETTE = ["#05803f", "#2a56a8", "#d97706", "#8a5a00", "#7c3aed", "#0e7490", "#b42318", "#4b5563"];

  function pie(spec) {
    return {
      color: PALETTE,
      animation: false,
      tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
      legend: { type: "scroll", bottom: 0 },
      series: [{
        type: "pie",
        radius: ["35%", "65%"],
        center: ["50%", "45%"],
        avoidLabelOverlap: true,
        label: { formatter: "{b}\n{d}%" },
        data: spec.labels.map(function (label, i) { return { name: label, value: spec.values[i] }; })
      }]
    };
  }

  function bar(spec) {
    return {
      color: PALETTE,
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 24, top: 16, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: spec.labels, axisLabel: { interval: 0, hideOverlap: true } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", data: spec.values, barMaxWidth: 48, label: { show: true, position: "top" } }]
    };
  }

  function grouped(spec) {
    var unit = spec.unit || "";
    return {
      color: PALETTE,
      animation: false,
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "shadow" },
        valueFormatter: function (v) { return v === null || v === undefined ? "—" : v + unit; }
      },
      legend: { top: 0 },
      grid: { left: 8, right: 40, top: 32, bottom: 8, containLabel: true },
      yAxis: { type: "category", data: spec.labels, inverse: true, axisLabel: { width: 220, overflow: "truncate" } },
      xAxis: { type: "value", min: 0, max: unit === "%" ? 100 : null, axisLabel: { formatter: "{value}" + unit } },
      series: spec.series.map(function (s) {
        return {
          name: s.name,
          type: "bar",
          barMaxWidth: 16,
          data: s.values.map(function (v) { return v === null ? "-" : v; }),
          label: { show: true, position: "right", formatter: function (p) { return p.value === "-" ? "—" : p.value + unit; } }
        };
      })
    };
  }

  function draw() {
    if (typeof window.echarts === "undefined") { return; }
    var charts = [];
    document.querySelectorAll("[data-vc-chart]").forEach(function (el) {
      var source = document.getElementById(el.getAttribute("data-vc-chart"));
      if (!source) { return; }
      var spec = JSON.parse(source.textContent);
      var option = spec.type === "pie" ? pie(spec) : spec.type === "grouped" ? grouped(spec) : bar(spec);
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(option);
      el.setAttribute("data-vc-drawn", "1");
      charts.push(chart);
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (chart) { chart.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();

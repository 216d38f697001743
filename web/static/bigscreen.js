// 值班大屏: polls /api/charts/bigscreen every data-interval ms and updates the charts in place
// (setOption on the same ECharts instances, lists rebuilt in their boxes: no page reload, no flicker).
// The 12-hour clocks count down every second against the server's clock (offset taken at each poll).
(function () {
  "use strict";
  var Y = window.YuqingCharts;
  var offset = 0; // server time - browser time, ms
  var charts = {};
  var refreshes = 0;

  function $(id) { return document.getElementById(id); }
  function pad(n) { return n < 10 ? "0" + n : "" + n; }
  var clockFmt = new Intl.DateTimeFormat("zh-CN", {timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit",
    day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false});
  var shortFmt = new Intl.DateTimeFormat("zh-CN", {timeZone: "Asia/Shanghai", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hour12: false});

  function left(ms) {
    var s = Math.floor(Math.abs(ms) / 1000);
    var text = Math.floor(s / 3600) + "小时" + pad(Math.floor((s % 3600) / 60)) + "分" + pad(s % 60) + "秒";
    return ms >= 0 ? "剩余 " + text : "已超时 " + text;
  }

  function tick() {
    var now = Date.now() + offset;
    $("bs-clock").textContent = clockFmt.format(new Date(now)) + "（北京时间）";
    document.querySelectorAll("#bs-clocks [data-deadline]").forEach(function (el) {
      var ms = Date.parse(el.dataset.deadline) - now;
      el.textContent = left(ms);
      el.classList.toggle("overdue", ms < 0);
      el.classList.toggle("soon", ms >= 0 && ms < 2 * 3600 * 1000);
    });
  }

  function sev(s) {
    return '<span class="sev" style="background:' + (Y.SEV[s] || "#9e9e9e") + '">' + Y.escape(Y.SEV_ZH[s] || s) + "</span>";
  }

  function lists(d) {
    $("bs-open").textContent = d.open;
    $("bs-unacked").textContent = d.unacked;
    $("bs-stages").innerHTML = d.stages.map(function (s) {
      return '<div class="kpi"><b data-stage="' + Y.escape(s.key) + '">' + s.count + "</b><span>" + Y.escape(s.name) + "</span></div>";
    }).join("");
    $("bs-clocks").innerHTML = d.clocks.length ? d.clocks.map(function (c) {
      return '<li data-incident="' + c.id + '">' + sev(c.severity) + ' <span class="t">#' + c.id + " " + Y.escape(c.title) +
        '</span><span class="countdown" data-deadline="' + Y.escape(c.deadline) + '"></span>' +
        (c.acknowledged ? "" : '<span class="unack">未确认</span>') + "</li>";
    }).join("") : '<li class="muted">没有待首次回应的事件</li>';
    $("bs-alerts").innerHTML = d.alerts.length ? d.alerts.map(function (a) {
      return '<li data-alert="' + a.id + '"><span class="when">' + Y.escape(a.label) + '</span> <span class="t" title="' +
        Y.escape(a.title) + '">' + Y.escape(a.title) + "</span>" +
        (a.acked ? ' <span class="ok">已确认</span>' : ' <span class="' + (a.status === "dead" ? "unack" : "muted") + '">' +
          Y.escape(a.status_name) + "</span>") + "</li>";
    }).join("") : '<li class="muted">暂无告警</li>';
    $("bs-incidents").innerHTML = d.incidents.length ? d.incidents.map(function (i) {
      return '<li data-incident="' + i.id + '">' + sev(i.severity) + ' <span class="t">#' + i.id + " " + Y.escape(i.title) +
        '</span><span class="muted">' + Y.escape(i.category) + " · " + Y.escape(i.stage) + " · 热度 " + Math.round(i.heat) + "</span></li>";
    }).join("") : '<li class="muted">当前没有在办舆情事件</li>';
    $("bs-unknown").textContent = d.map.unknown ? "另有 " + d.map.unknown + " 起未能确定地域" : "";
  }

  function severityOption(d) {
    return {
      tooltip: {trigger: "item"},
      grid: {left: 64, right: 30, top: 8, bottom: 20},
      xAxis: {type: "value", minInterval: 1, axisLabel: {color: "#b0bec5"}, splitLine: {lineStyle: {color: "#263238"}}},
      yAxis: {type: "category", data: d.severities.map(function (s) { return s.name; }), axisLabel: {color: "#eceff1"}},
      series: [{type: "bar", barMaxWidth: 18, label: {show: true, position: "right", color: "#eceff1"},
                data: d.severities.map(function (s) { return {value: s.count, itemStyle: {color: s.colour}}; })}]
    };
  }

  function trendOption(t) {
    return {
      tooltip: {trigger: "axis"},
      legend: {data: ["危机类帖子", "新发事件"], textStyle: {color: "#cfd8dc"}},
      grid: {left: 40, right: 40, top: 30, bottom: 40},
      xAxis: {type: "category", data: t.labels, name: "北京时间", nameLocation: "middle", nameGap: 26,
              nameTextStyle: {color: "#90a4ae"}, axisLabel: {color: "#b0bec5"}},
      yAxis: [{type: "value", minInterval: 1, axisLabel: {color: "#b0bec5"}, splitLine: {lineStyle: {color: "#263238"}}},
              {type: "value", minInterval: 1, axisLabel: {color: "#b0bec5"}, splitLine: {show: false}}],
      series: [{name: "危机类帖子", type: "bar", data: t.posts, itemStyle: {color: "#42a5f5"}, barMaxWidth: 14},
               {name: "新发事件", type: "line", yAxisIndex: 1, data: t.incidents, itemStyle: {color: "#ff7043"}}]
    };
  }

  function draw(d) {
    lists(d);
    if (!Y.available()) { return; }
    charts.map.setOption(Y.mapOption(d.map, true), {replaceMerge: ["series"]});
    charts.severity.setOption(severityOption(d));
    charts.trend.setOption(trendOption(d.trend));
    charts.category.setOption(Y.categoryTotalOption(d.stats, true));
  }

  function refresh() {
    var box = document.body;
    Y.getJSON(box.dataset.src).then(function (d) {
      offset = Date.parse(d.now) - Date.now();
      draw(d);
      tick();
      refreshes += 1;
      box.dataset.refreshes = String(refreshes);
      $("bs-updated").textContent = "更新于 " + shortFmt.format(new Date(Date.parse(d.now)));
      $("bs-status").textContent = "";
    }).catch(function (e) {
      $("bs-status").textContent = /401/.test(String(e)) ? "登录已失效，请重新登录" : "数据刷新失败，稍后重试";
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (Y.available()) {
      charts.map = Y.instance($("bs-map"));
      charts.severity = Y.instance($("bs-severity"));
      charts.trend = Y.instance($("bs-trend"));
      charts.category = Y.instance($("bs-category"));
    } else {
      ["bs-map", "bs-severity", "bs-trend", "bs-category"].forEach(function (id) { Y.missing($(id)); });
    }
    var full = $("bs-fullscreen");
    if (full && document.documentElement.requestFullscreen) {
      full.addEventListener("click", function () {
        if (document.fullscreenElement) { document.exitFullscreen(); } else { document.documentElement.requestFullscreen(); }
      });
    } else if (full) { full.hidden = true; }
    refresh();
    setInterval(refresh, parseInt(document.body.dataset.interval || "15000", 10));
    setInterval(tick, 1000);
  });
})();

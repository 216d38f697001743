// Live parts of the pages: 12-hour countdowns, board auto-refresh, scheme preview. No external libraries.
(function () {
  function pad(n) { return n < 10 ? "0" + n : "" + n; }
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-deadline]").forEach(function (el) {
      var left = Math.floor((Date.parse(el.dataset.deadline) - now) / 1000);
      var abs = Math.abs(left);
      var text = Math.floor(abs / 3600) + "小时" + pad(Math.floor((abs % 3600) / 60)) + "分" + pad(abs % 60) + "秒";
      el.textContent = left >= 0 ? "剩余 " + text : "已超时 " + text;
      el.classList.toggle("overdue", left < 0);
    });
  }
  function refresh(box) {
    fetch(box.dataset.refresh, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) { box.innerHTML = html; tick(); } })
      .catch(function () {});
  }
  function preview(url) {
    var out = document.getElementById("preview-out");
    fetch(url, {credentials: "same-origin"}).then(function (r) { return r.text(); })
      .then(function (html) { out.innerHTML = html; });
  }
  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 1000);
    var box = document.querySelector("[data-refresh]");
    if (box) { setInterval(function () { refresh(box); }, parseInt(box.dataset.interval || "15000", 10)); }
    document.querySelectorAll("[data-preview]").forEach(function (b) {
      b.addEventListener("click", function () { preview(b.dataset.preview); });
    });
    var btn = document.getElementById("preview-btn");
    if (btn) {
      btn.addEventListener("click", function () {
        preview("/admin/preview?q=" + encodeURIComponent(document.getElementById("preview-q").value));
      });
    }
  });
})();

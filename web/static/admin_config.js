// The configuration editor (admin_config.html): add list items from their <template>, preview a
// keyword scheme being edited. Removing an item is the "删除此项" checkbox (works without script).
(function () {
  var counter = 0;
  function add(button) {
    var path = button.dataset.add, ph = button.dataset.ph;
    var tpl = document.getElementById("tpl-" + path);
    var box = document.getElementById("items-" + path);
    if (!tpl || !box) { return; }
    counter += 1;
    var index = String(1000000 + Date.now() % 1000000 * 10 + counter);
    var holder = document.createElement("div");
    holder.innerHTML = tpl.innerHTML.split(ph).join(index);
    while (holder.firstChild) { box.appendChild(holder.firstChild); }
    bind(box);
  }
  function preview(prefix) {
    var params = new URLSearchParams();
    ["subject", "region", "person", "event", "exclude", "expression"].forEach(function (f) {
      var el = document.querySelector('[name="' + prefix + "." + f + '"]');
      if (el && el.value.trim()) { params.append("s." + f, el.value); }
    });
    var out = document.getElementById("preview-out");
    fetch("/admin/preview?" + params.toString(), {credentials: "same-origin"})
      .then(function (r) { return r.text(); }).then(function (html) { out.innerHTML = html; });
  }
  function bind(root) {
    root.querySelectorAll("[data-add]").forEach(function (b) {
      if (b.dataset.bound) { return; }
      b.dataset.bound = "1";
      b.addEventListener("click", function () { add(b); });
    });
    root.querySelectorAll("[data-scheme-preview]").forEach(function (b) {
      if (b.dataset.bound) { return; }
      b.dataset.bound = "1";
      b.addEventListener("click", function () { preview(b.dataset.schemePreview); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { bind(document); });
})();

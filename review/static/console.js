// Keyboard shortcuts of the console (no inline script: CSP script-src 'self').
(function () {
  "use strict";
  function typing(e) {
    var t = e.target;
    return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var rows = Array.prototype.slice.call(document.querySelectorAll("#flags tbody tr[data-flag]"));
    var current = -1;
    function focusRow(i) {
      if (!rows.length) return;
      current = Math.max(0, Math.min(rows.length - 1, i));
      rows.forEach(function (r) { r.classList.remove("current"); });
      rows[current].classList.add("current");
      rows[current].querySelector("a").focus();
    }
    var reason = document.getElementById("reason");
    function filterReasons(decision) {
      if (!reason) return;
      Array.prototype.forEach.call(reason.options, function (o) {
        var d = o.getAttribute("data-decision");
        o.hidden = !!(d && decision && d !== decision);
      });
      if (reason.selectedOptions[0] && reason.selectedOptions[0].hidden) reason.value = "";
    }
    document.querySelectorAll("#decide input[name=decision]").forEach(function (r) {
      r.addEventListener("change", function () { filterReasons(r.value); });
    });
    document.addEventListener("keydown", function (e) {
      if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) return;
      var link;
      if (rows.length && (e.key === "j" || e.key === "k")) {
        focusRow(current + (e.key === "j" ? 1 : -1));
        e.preventDefault();
      } else if (e.key === "n" && (link = document.querySelector("a[rel=next]"))) {
        window.location = link.href;
      } else if (e.key === "p" && (link = document.querySelector("a[rel=prev]"))) {
        window.location = link.href;
      } else if ("123".indexOf(e.key) >= 0 && e.key.length === 1) {
        var radio = document.querySelector("#decide input[data-key='" + e.key + "']");
        if (radio) {
          radio.checked = true;
          filterReasons(radio.value);
          if (reason) reason.focus();
          e.preventDefault();
        }
      }
    });
  });
})();

// Countdowns (selection windows opening and closing, seats held while paying) and confirm dialogs for
// destructive forms. Progressive enhancement only: the pages show the absolute times without this file.
// A countdown counts down from the seconds the server measured when it rendered the page, so the phone's own
// clock being wrong does not matter.
(function () {
  "use strict";

  function pad(n) {
    return n < 10 ? "0" + n : String(n);
  }

  function format(total, dayLabel) {
    var days = Math.floor(total / 86400);
    var rest = total % 86400;
    var text = pad(Math.floor(rest / 3600)) + ":" + pad(Math.floor((rest % 3600) / 60)) + ":" + pad(rest % 60);
    return days > 0 ? days + " " + dayLabel + " " + text : text;
  }

  var started = Date.now();
  var counters = [];
  document.querySelectorAll("[data-countdown]").forEach(function (el) {
    var seconds = parseInt(el.getAttribute("data-seconds"), 10);
    if (isNaN(seconds)) return;
    counters.push({ el: el, seconds: seconds, reload: el.hasAttribute("data-reload") && seconds > 0 });
  });

  var reloading = false;
  function tick() {
    var elapsed = Math.floor((Date.now() - started) / 1000);
    counters.forEach(function (c) {
      var left = Math.max(c.seconds - elapsed, 0);
      var dayLabel = c.el.getAttribute("data-day") || "d";
      if (left > 0) {
        c.el.textContent = format(left, dayLabel);
      } else {
        c.el.textContent = c.el.getAttribute("data-done") || format(0, dayLabel);
        c.el.classList.add("done");
        if (c.reload && !reloading) {
          reloading = true;
          setTimeout(function () { window.location.reload(); }, 1500);
        }
      }
    });
  }
  if (counters.length) {
    tick();
    setInterval(tick, 1000);
  }

  // (<form data-confirm>: kehou.js asks before sending, on every page.)

  // A form that selects a class is sent once: a second tap while the first is on its way does nothing
  // (the server would answer it as the same selection anyway, by its request key).
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (ev.defaultPrevented) return;
      if (form.dataset.sent) {
        ev.preventDefault();
        return;
      }
      form.dataset.sent = "1";
      var button = form.querySelector("button[type=submit]");
      if (button) setTimeout(function () { button.disabled = true; }, 0);
    });
  });
})();

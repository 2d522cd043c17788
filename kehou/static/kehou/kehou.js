// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  function csrf(form) {
    var i = form.querySelector("input[name=csrfmiddlewaretoken]");
    return i ? i.value : "";
  }

  // <form data-confirm="Approve this refund?">: ask before sending, on every page. Listened for on the document in
  // the capture phase, so it runs before any handler of the form itself (data-once sees the refusal).
  document.addEventListener(
    "submit",
    function (ev) {
      var form = ev.target;
      if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) return;
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        ev.preventDefault();
        ev.stopImmediatePropagation();
      }
    },
    true
  );

  // Phone menu: the "Menu" button folds the navigation in and out.
  var toggle = document.querySelector("[data-menu-toggle]");
  var menu = document.querySelector("[data-menu]");
  if (toggle && menu) {
    toggle.addEventListener("click", function () {
      var open = menu.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
    document.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape" && menu.classList.contains("open")) {
        menu.classList.remove("open");
        toggle.setAttribute("aria-expanded", "false");
        toggle.focus();
      }
    });
  }

  // Login tabs: password / SMS code.
  var tabs = document.querySelectorAll("[data-tabs] a");
  tabs.forEach(function (tab) {
    tab.addEventListener("click", function (ev) {
      ev.preventDefault();
      tabs.forEach(function (t) {
        var on = t === tab;
        t.classList.toggle("active", on);
        t.setAttribute("aria-selected", on ? "true" : "false");
        var panel = document.querySelector(t.getAttribute("href"));
        if (panel) panel.classList.toggle("hidden", !on);
      });
      var first = document.querySelector(tab.getAttribute("href") + " input:not([type=hidden])");
      if (first) first.focus();
    });
  });

  // "Send code": ask the server for an SMS login code, then count down before another may be sent.
  document.querySelectorAll("[data-send-code]").forEach(function (btn) {
    var label = btn.textContent;
    btn.addEventListener("click", function () {
      var form = btn.closest("form");
      var status = form.querySelector("[data-sms-status]");
      var phone = form.querySelector("[name=sms-phone]");
      if (!phone.checkValidity()) {
        phone.reportValidity();
        return;
      }
      var body = new FormData();
      body.append("sms-phone", phone.value);
      btn.disabled = true;
      fetch(form.dataset.smsSend, {
        method: "POST",
        body: body,
        headers: { "X-CSRFToken": csrf(form), Accept: "application/json" },
        credentials: "same-origin"
      })
        .then(function (r) {
          return r.json().then(function (j) { return { ok: r.ok, body: j }; });
        })
        .then(function (res) {
          status.classList.toggle("error", !res.ok);
          if (!res.ok) {
            status.textContent = (res.body && res.body.error && res.body.error.message) || form.dataset.msgFailed;
            btn.disabled = false;
            return;
          }
          status.textContent = form.dataset.msgSent;
          var code = form.querySelector("[name=sms-code]");
          if (code) code.focus();
          var left = 60;
          var tick = function () {
            if (left <= 0) {
              btn.disabled = false;
              btn.textContent = label;
              return;
            }
            btn.textContent = form.dataset.msgWait.replace("{n}", String(left));
            left -= 1;
            setTimeout(tick, 1000);
          };
          tick();
        })
        .catch(function () {
          status.classList.add("error");
          status.textContent = form.dataset.msgFailed;
          btn.disabled = false;
        });
    });
  });
})();

// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  function csrf(form) { var i = form.querySelector("input[name=csrfmiddlewaretoken]"); return i ? i.value : ""; }
  document.querySelectorAll("[data-tabs] a").forEach(function (tab) {
    tab.addEventListener("click", function (ev) {
      ev.preventDefault();
      document.querySelectorAll("[data-tabs] a").forEach(function (t) {
        t.classList.toggle("active", t === tab);
        var panel = document.querySelector(t.getAttribute("href"));
        if (panel) panel.classList.toggle("hidden", t !== tab);
      });
    });
  });
  document.querySelectorAll("[data-send-code]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var form = btn.closest("form"), status = form.querySelector("[data-sms-status]");
      var body = new FormData();
      body.append("sms-phone", form.querySelector("[name=sms-phone]").value);
      fetch(form.dataset.smsSend, { method: "POST", body: body, headers: { "X-CSRFToken": csrf(form) }, credentials: "same-origin" })
        .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
        .then(function (res) {
          status.textContent = res.ok ? (document.documentElement.lang === "en" ? "Code sent." : "验证码已发送。") : res.body.error.message;
          if (res.ok) { btn.disabled = true; setTimeout(function () { btn.disabled = false; }, 60000); }
        });
    });
  });
})();

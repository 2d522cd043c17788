/* The session page: check-in from the phone's location (one fix, then the form is sent), and the roll call's
   counts recomputed as the teacher taps, before saving. */
(function () {
  "use strict";
  var form = document.querySelector("[data-geo-check-in]");
  if (form) {
    var status = form.querySelector("[data-geo-status]");
    var button = form.querySelector("[data-geo-button]");
    var zh = (document.documentElement.lang || "zh").indexOf("zh") === 0;
    var say = function (zhText, enText) { status.textContent = zh ? zhText : enText; };
    form.addEventListener("submit", function (event) {
      if (form.dataset.located === "1") return;
      event.preventDefault();
      if (!navigator.geolocation) { say("此浏览器无法读取位置。", "This browser cannot read its location."); return; }
      button.disabled = true;
      say("正在读取位置…", "Reading your location…");
      navigator.geolocation.getCurrentPosition(function (pos) {
        form.elements.lat.value = pos.coords.latitude;
        form.elements.lng.value = pos.coords.longitude;
        form.elements.accuracy_m.value = Math.max(1, Math.round(pos.coords.accuracy || 1));
        form.elements.crs.value = "wgs84";
        form.dataset.located = "1";
        say("已定位（±" + Math.round(pos.coords.accuracy) + " 米），正在签到…", "Located (±" + Math.round(pos.coords.accuracy) + " m), checking in…");
        form.submit();
      }, function (err) {
        button.disabled = false;
        if (err.code === 1) say("未允许读取位置：请在浏览器设置中允许本站使用位置。", "Location was not allowed: allow this site to use your location.");
        else say("无法读取位置，请到室外或稍后再试。", "Could not read your location; try again outside or in a moment.");
      }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 });
    });
  }

  var sheet = document.querySelector("[data-roll-call-form]");
  var counts = document.querySelector("[data-counts]");
  function show(c) {
    ["expected", "present", "absent", "leave", "unmarked"].forEach(function (k) {
      var el = counts && counts.querySelector('[data-count="' + k + '"]');
      if (el && typeof c[k] === "number") el.textContent = c[k];
    });
  }
  function tally() {
    var c = { expected: 0, present: 0, absent: 0, leave: 0, unmarked: 0 };
    sheet.querySelectorAll("[data-pupil]").forEach(function (row) {
      var chosen = row.querySelector("input:checked");
      var group = chosen ? chosen.dataset.group : "unmarked";
      c.expected += 1;
      c[group] = (c[group] || 0) + 1;
    });
    show(c);
  }
  if (sheet) {
    sheet.addEventListener("change", tally);
    var all = sheet.querySelector("[data-all-present]");
    if (all) all.addEventListener("click", function () {
      sheet.querySelectorAll("[data-pupil]").forEach(function (row) {
        if (!row.querySelector("input:checked")) {
          var present = row.querySelector('input[value="present"]');
          if (present) present.checked = true;
        }
      });
      tally();
    });
  } else if (counts) {
    /* Someone watching (the school, the operator): the counts follow the sheet without a reload. */
    var box = document.querySelector("[data-roll-call]");
    var url = box && box.dataset.api;
    if (url && window.fetch) {
      setInterval(function () {
        if (document.hidden) return;
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (data) { if (data) show(data); })
          .catch(function () {});
      }, 15000);
    }
  }
})();

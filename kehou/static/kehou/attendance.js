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
  }
  /* Everyone with the page open (the teacher's other device, the school, the operator): the counts and the
     check-in follow the session live through the event channel (kehou/live.js), without a reload. */
  if (counts) {
    document.addEventListener("kehou:event", function (ev) {
      var d = ev.detail || {};
      if (d.kind === "roll_call" && !(sheet && sheet.dataset.dirty === "1")) show(d);
      if (d.kind === "check_in") {
        var box = document.querySelector("[data-check-in]");
        if (box && !box.querySelector("[data-outcome]")) {
          var zh2 = (document.documentElement.lang || "zh").indexOf("zh") === 0;
          var words = { inside: ["在范围内", "Inside"], outside: ["超出范围", "Outside"], uncertain: ["无法确定", "Uncertain"] };
          var p = document.createElement("p");
          p.className = "ci-result";
          p.dataset.outcome = d.outcome;
          var w = words[d.outcome] || [d.outcome, d.outcome];
          p.textContent = (zh2 ? "老师已签到：" : "The teacher checked in: ") + (zh2 ? w[0] : w[1]);
          box.appendChild(p);
        }
      }
    });
  }
  if (sheet) sheet.addEventListener("change", function () { sheet.dataset.dirty = "1"; });

  /* The comment form: "Comment" beside a pupil picks that pupil and moves to the form. */
  var commentForm = document.querySelector("[data-comment-form]");
  if (commentForm) {
    document.querySelectorAll("[data-comment-on]").forEach(function (link) {
      link.addEventListener("click", function (ev) {
        ev.preventDefault();
        commentForm.querySelector("[data-comment-pupil]").value = link.dataset.commentOn;
        commentForm.scrollIntoView({ behavior: "smooth", block: "start" });
        commentForm.querySelector("[data-comment-text]").focus();
      });
    });
  }
})();

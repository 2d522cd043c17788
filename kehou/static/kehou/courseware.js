// Courseware: the upload goes with a progress bar (the form still works without this script), and rows still
// converting follow their conversion's state until it is ready or failed.
(function () {
  "use strict";
  var t = document.querySelector("[data-t-states]");
  if (!t) return;
  var states = JSON.parse(t.dataset.tStates);
  var form = document.querySelector("[data-upload-form]");
  if (form && window.FormData && window.XMLHttpRequest) {
    var box = form.querySelector("[data-upload-progress]"), bar = box.querySelector("progress");
    var percent = form.querySelector("[data-upload-percent]"), error = form.querySelector("[data-upload-error]");
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var data = new FormData(form);
      data.delete("csrfmiddlewaretoken");
      if (!data.get("group")) data.delete("group");
      var xhr = new XMLHttpRequest();
      xhr.open("POST", "/api/v1/teaching/courseware/");
      xhr.setRequestHeader("X-CSRFToken", form.querySelector("input[name=csrfmiddlewaretoken]").value);
      xhr.setRequestHeader("Accept", "application/json");
      box.hidden = false;
      error.hidden = true;
      form.dataset.uploading = "1";
      xhr.upload.onprogress = function (ev) {
        if (!ev.lengthComputable) return;
        var p = Math.round((ev.loaded / ev.total) * 100);
        bar.value = p;
        percent.textContent = p + "%";
      };
      xhr.onload = function () {
        form.dataset.uploading = "";
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
        if (xhr.status === 201) { window.location.href = "/teach/courseware/" + body.id + "/"; return; }
        box.hidden = true;
        error.hidden = false;
        error.textContent = (body.error && body.error.message) || t.dataset.tFailed;
      };
      xhr.onerror = function () {
        form.dataset.uploading = "";
        box.hidden = true;
        error.hidden = false;
        error.textContent = t.dataset.tFailed;
      };
      xhr.send(data);
    });
  }

  function follow() {
    var rows = document.querySelectorAll("[data-converting]");
    rows.forEach(function (row) {
      fetch("/api/v1/teaching/courseware/" + row.dataset.courseware + "/", { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (c) {
          if (!c.conversion) return;
          var tag = row.querySelector("[data-state]");
          tag.dataset.state = c.conversion.status;
          tag.textContent = states[c.conversion.status] || c.conversion.status;
          tag.className = "tag " + (c.conversion.status === "ready" ? "ok" : c.conversion.status === "failed" ? "bad" : "state-open");
          if (c.conversion.pages) row.querySelector("[data-pages]").textContent = c.conversion.pages;
          if (c.conversion.status === "ready" || c.conversion.status === "failed") {
            row.removeAttribute("data-converting");
            var b = row.querySelector("[data-present]");
            if (b) b.disabled = c.conversion.status !== "ready";
          }
        }).catch(function () {});
    });
    if (document.querySelector("[data-converting]")) setTimeout(follow, 2000);
  }
  setTimeout(follow, 1500);

  // One courseware's page while it converts: shown again once the conversion is done.
  var waiting = document.querySelector("[data-follow]");
  function again() {
    fetch("/api/v1/teaching/courseware/" + waiting.dataset.follow + "/", { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (c) {
        if (c.conversion && (c.conversion.status === "ready" || c.conversion.status === "failed")) window.location.reload();
        else setTimeout(again, 2000);
      }).catch(function () { setTimeout(again, 4000); });
  }
  if (waiting) setTimeout(again, 1500);
})();

// The teacher's phone as the classroom screen's remote: each button moves the presentation on the server, which
// tells the screen through the live channel (and this page too, when the screen's keys turn the page).
(function () {
  "use strict";
  var root = document.querySelector("[data-remote]");
  if (!root) return;
  var id = root.dataset.remote;
  var token = (document.querySelector("input[name=csrfmiddlewaretoken]") || {}).value || "";
  var pageEl = root.querySelector("[data-page]"), pagesEl = root.querySelector("[data-pages]");
  var titleEl = root.querySelector("[data-title]"), error = root.querySelector("[data-remote-error]");
  var input = root.querySelector("[data-goto] input");

  function show(s) {
    pageEl.textContent = s.page;
    pagesEl.textContent = s.pages;
    titleEl.textContent = s.title;
    root.dataset.page = s.page;
    if (input) input.max = s.pages;
    if (s.ended) {
      root.dataset.ended = "1";
      error.hidden = false;
      error.textContent = root.dataset.tEnded;
    }
  }

  function send(body) {
    error.hidden = true;
    return fetch("/api/v1/teaching/presentations/" + id + "/go", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (data) { if (!r.ok) throw data; return data; });
    }).then(show).catch(function (data) {
      error.hidden = false;
      error.textContent = (data && data.error && data.error.message) || root.dataset.tError;
    });
  }

  root.querySelectorAll("[data-go]").forEach(function (b) {
    b.addEventListener("click", function () {
      if (b.dataset.confirm && !window.confirm(b.dataset.confirm)) return;
      send({ action: b.dataset.go });
    });
  });
  root.querySelectorAll("[data-switch]").forEach(function (b) {
    b.addEventListener("click", function () { send({ action: "first", courseware: Number(b.dataset.switch) }); });
  });
  var form = root.querySelector("[data-goto]");
  if (form) form.addEventListener("submit", function (e) {
    e.preventDefault();
    send({ action: "goto", page: Number(input.value) });
  });
  document.addEventListener("kehou:event", function (e) {
    var d = e.detail || {};
    if (d.topic !== "presentation:" + id) return;
    e.preventDefault();
    show(d);
  });
  show(JSON.parse(document.getElementById("present-state").textContent));
})();

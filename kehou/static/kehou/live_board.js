/* The live view: when the event channel says something changed at a watched school (a check-in, a roll-call mark,
   a follow-up), the board is fetched again (at most once every two seconds) and swapped in place, so that the page
   never reloads and a note being typed in a follow-up form is kept. */
(function () {
  "use strict";
  var board = document.querySelector("[data-live-board]");
  if (!board) return;
  var url = board.dataset.fragmentUrl + (board.dataset.fragmentUrl.indexOf("?") < 0 ? "?" : "&") + "fragment=1";
  var timer = null, busy = false, again = false;
  function typing() {
    var el = document.activeElement;
    return el && board.contains(el) && el.tagName === "INPUT" && el.value;
  }
  function refresh() {
    timer = null;
    if (busy) { again = true; return; }
    if (typing()) { timer = setTimeout(refresh, 2000); return; }
    busy = true;
    fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html !== null) {
          board.innerHTML = html;
          board.dataset.refreshed = String((Number(board.dataset.refreshed) || 0) + 1);
        }
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        if (again) { again = false; schedule(); }
      });
  }
  function schedule() { if (!timer) timer = setTimeout(refresh, 1200); }
  document.addEventListener("kehou:event", function (ev) {
    var d = ev.detail || {};
    if (d.topic && /^(school|district|operator):/.test(d.topic)) schedule();
  });
  // A minute passes: states move on (a session starts, a check-in becomes missing) even when nothing is sent.
  setInterval(schedule, 60000);
})();

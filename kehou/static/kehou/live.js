/* The page's live channel: one EventSource on the account's event stream (and the topics the page follows, e.g. a
   session's roll call). Each event is handed to the page as a "kehou:event" DOM event; a notification the page does
   not show itself appears as a toast. The browser reconnects by itself and resumes after the last event it saw. */
(function () {
  "use strict";
  var body = document.body;
  if (!window.EventSource || !body || !body.dataset.live) return;
  var url = body.dataset.live + "?last_event_id=" + encodeURIComponent(body.dataset.liveAfter || "0");
  (body.dataset.liveTopics || "").split(/\s+/).forEach(function (t) {
    if (t) url += "&topic=" + encodeURIComponent(t);
  });
  var toasts = document.querySelector("[data-live-toasts]");
  var source = new EventSource(url, { withCredentials: true });
  body.dataset.liveState = "connecting";
  source.onopen = function () { body.dataset.liveState = "open"; };
  source.onerror = function () { body.dataset.liveState = "reconnecting"; };

  function toast(n) {
    if (!toasts || !n.title) return;
    var item = document.createElement(n.link ? "a" : "div");
    item.className = "live-toast" + (n.important ? " important" : "");
    if (n.link) item.href = n.link;
    var strong = document.createElement("strong");
    strong.textContent = n.title;
    item.appendChild(strong);
    if (n.body) {
      var p = document.createElement("span");
      p.textContent = n.body;
      item.appendChild(p);
    }
    toasts.appendChild(item);
    setTimeout(function () { item.classList.add("gone"); }, 12000);
    setTimeout(function () { if (item.parentNode) item.parentNode.removeChild(item); }, 13000);
  }

  source.onmessage = function (message) {
    var data;
    try { data = JSON.parse(message.data); } catch (e) { return; }
    var ev = new CustomEvent("kehou:event", { detail: data, cancelable: true });
    var unhandled = document.dispatchEvent(ev);
    if (data.kind === "notification" && unhandled) toast(data);
  };
  window.addEventListener("pagehide", function () { source.close(); });
})();

// The classroom screen's QR login: start a login, show its code and number, poll it with the screen's secret
// (kept in this page only), renew the code when it expires, and log in once the phone approves.
(function () {
  "use strict";
  var root = document.querySelector("[data-screen-login]");
  if (!root) return;
  var img = root.querySelector("[data-qr]"), match = root.querySelector("[data-match]");
  var expires = root.querySelector("[data-expires]"), status = root.querySelector("[data-status]");
  var link = root.querySelector("[data-link]");
  var current = null, timer = null;

  function say(text) { status.textContent = text || ""; }

  function start(note) {
    clearTimeout(timer);
    var body = root.dataset.screenName ? JSON.stringify({ screen_name: root.dataset.screenName }) : "";
    fetch("/api/v1/qr-login/", {
      method: "POST", credentials: "same-origin",
      headers: body ? { "Content-Type": "application/json" } : {}, body: body || undefined
    }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.json();
    }).then(function (data) {
      current = data;
      img.src = data.qr_svg;
      match.textContent = data.match_number;
      link.textContent = data.qr_payload;
      root.dataset.loginId = data.id;
      say(note || "");
      tick();
      timer = setTimeout(poll, 1000);
    }).catch(function () { say(root.dataset.tError); timer = setTimeout(start, 5000); });
  }

  function tick() {
    if (!current) return;
    var left = Math.max(0, Math.round((new Date(current.expires_at) - new Date()) / 1000));
    expires.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
  }

  function poll() {
    tick();
    fetch("/api/v1/qr-login/" + current.id + "/", {
      credentials: "same-origin", headers: { "X-Screen-Secret": current.secret }
    }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.json();
    }).then(function (state) {
      root.dataset.state = state.status;
      if (state.status === "scanned") say(state.teacher + " " + root.dataset.tScanned);
      if (state.status === "expired") return start(root.dataset.tExpired);
      if (state.status === "rejected") return start(root.dataset.tRejected);
      if (state.status === "approved") return exchange();
      timer = setTimeout(poll, 1000);
    }).catch(function () { say(root.dataset.tError); timer = setTimeout(poll, 3000); });
  }

  function exchange() {
    say(root.dataset.tApproved);
    fetch("/api/v1/qr-login/" + current.id + "/session", {
      method: "POST", credentials: "same-origin", headers: { "X-Screen-Secret": current.secret }
    }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.json();
    }).then(function (data) { window.location.assign(data.redirect); })
      .catch(function () { start(root.dataset.tExpired); });
  }

  start();
})();

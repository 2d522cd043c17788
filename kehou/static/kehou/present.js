// The classroom screen's presenter: one page at a time, full screen. Every page of the day's courseware is fetched
// first and kept in memory, so that a dropped network does not stop the lesson; the teacher's phone turns the pages
// through the live channel (topic presentation:<id>), and so do the arrow keys here.
(function () {
  "use strict";
  var root = document.querySelector("[data-presenter]");
  if (!root) return;
  var id = root.dataset.presenter;
  var state = JSON.parse(document.getElementById("present-state").textContent);
  var decks = JSON.parse(document.getElementById("present-decks").textContent);
  var byId = {};
  decks.forEach(function (d) { byId[d.id] = d; });
  var img = root.querySelector("[data-page-img]"), mediaBox = root.querySelector("[data-media-box]");
  var pageEl = root.querySelector("[data-page]"), pagesEl = root.querySelector("[data-pages]");
  var titleEl = root.querySelector("[data-title]"), preloadEl = root.querySelector("[data-preload]");
  var net = root.querySelector("[data-net]");
  var token = (document.querySelector("input[name=csrfmiddlewaretoken]") || {}).value || "";
  var cache = {}; // deck id → page → object URL
  var loaded = 0, total = 0, unsynced = false, shownMedia = null;

  function pageUrl(deck, n) { return deck.page_url + n; }

  function render() {
    var deck = byId[state.courseware] || { id: state.courseware, title: state.title, pages: state.pages, page_url: "", kind: state.courseware_kind };
    titleEl.textContent = deck.title;
    pageEl.textContent = state.page;
    pagesEl.textContent = deck.pages;
    root.dataset.page = state.page;
    root.dataset.courseware = state.courseware;
    if (deck.kind === "audio" || deck.kind === "video") {
      img.hidden = true;
      mediaBox.hidden = false;
      if (shownMedia !== deck.id) {
        mediaBox.textContent = "";
        var el = document.createElement(deck.kind);
        el.controls = true;
        el.preload = "auto";
        el.src = deck.file_url;
        mediaBox.appendChild(el);
        shownMedia = deck.id;
      }
      return;
    }
    mediaBox.hidden = true;
    shownMedia = null;
    img.hidden = false;
    var cached = cache[deck.id] && cache[deck.id][state.page];
    img.src = cached || pageUrl(deck, state.page);
    img.alt = deck.title + " · " + state.page;
  }

  function media(action) {
    var el = mediaBox.querySelector("audio,video");
    if (!el) return;
    if (action === "play") el.play().catch(function () {});
    if (action === "pause") el.pause();
  }

  function apply(next) {
    if (next.ended) {
      root.dataset.ended = "1";
      preloadEl.textContent = root.dataset.tEnded;
    }
    if (next.courseware !== state.courseware && !byId[next.courseware]) {
      byId[next.courseware] = { id: next.courseware, title: next.title, pages: next.pages, kind: next.courseware_kind, page_url: "/api/v1/teaching/courseware/" + next.courseware + "/pages/", file_url: "/api/v1/teaching/courseware/" + next.courseware + "/file" };
    }
    state = next;
    render();
    if (next.action === "play" || next.action === "pause") media(next.action);
  }

  function online(ok) {
    net.hidden = ok;
    net.textContent = ok ? "" : root.dataset.tOffline;
    root.dataset.online = ok ? "1" : "0";
  }

  function send(body) {
    return fetch("/api/v1/teaching/presentations/" + id + "/go", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(body)
    }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.json();
    }).then(function (s) { unsynced = false; online(true); apply(s); })
      .catch(function () { unsynced = true; online(false); });
  }

  function go(action) {
    var deck = byId[state.courseware] || { pages: state.pages };
    var page = state.page;
    if (action === "next") page = Math.min(deck.pages, page + 1);
    if (action === "prev") page = Math.max(1, page - 1);
    if (action === "first") page = 1;
    if (action === "last") page = deck.pages;
    if (page === state.page) return;
    state = Object.assign({}, state, { page: page, action: action });
    render(); // at once, from memory; the server (and the phone) follow
    send({ action: "goto", page: page });
  }

  document.addEventListener("kehou:event", function (e) {
    var d = e.detail || {};
    if (d.topic !== "presentation:" + id) return;
    e.preventDefault();
    if (!unsynced) apply(d);
  });
  document.addEventListener("keydown", function (e) {
    if (e.target && /INPUT|TEXTAREA|SELECT/.test(e.target.tagName)) return;
    var key = { ArrowRight: "next", PageDown: "next", " ": "next", ArrowLeft: "prev", PageUp: "prev", Home: "first", End: "last" }[e.key];
    if (key) { e.preventDefault(); go(key); }
  });
  root.querySelector("[data-next]").addEventListener("click", function () { go("next"); });
  root.querySelector("[data-prev]").addEventListener("click", function () { go("prev"); });
  root.querySelector("[data-stage]").addEventListener("click", function () { go("next"); });
  root.querySelector("[data-fullscreen]").addEventListener("click", function () {
    if (root.requestFullscreen) root.requestFullscreen().catch(function () {});
  });
  if (navigator.wakeLock) navigator.wakeLock.request("screen").catch(function () {});

  // Pre-load: the current deck first, then the rest of the day's, three pages at a time.
  var queue = [];
  decks.forEach(function (d) {
    if (!d.page_url) return;
    for (var n = 1; n <= d.pages; n++) queue.push([d, n]);
  });
  total = queue.length;
  function progress() {
    preloadEl.textContent = root.dataset.tLoaded + " " + loaded + "/" + total;
    root.dataset.preloaded = loaded === total ? "all" : String(loaded);
  }
  function worker() {
    var job = queue.shift();
    if (!job) return Promise.resolve();
    var deck = job[0], n = job[1];
    return fetch(pageUrl(deck, n), { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.blob();
    }).then(function (blob) {
      (cache[deck.id] = cache[deck.id] || {})[n] = URL.createObjectURL(blob);
      loaded++;
      progress();
    }).catch(function () { queue.push(job); return new Promise(function (ok) { setTimeout(ok, 3000); }); })
      .then(worker);
  }
  progress();
  render();
  for (var i = 0; i < 3; i++) worker();

  // A safety net beside the live channel: re-read the state now and then, and send what changed while offline.
  setInterval(function () {
    if (unsynced) return send({ action: "goto", page: state.page, courseware: state.courseware });
    fetch("/api/v1/teaching/presentations/" + id + "/", { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (s) { online(true); if (s.page !== state.page || s.courseware !== state.courseware || s.ended) apply(s); })
      .catch(function () { online(false); });
  }, 10000);
})();

/* The guardian's comments page: a comment arriving on the live channel is put at the top of the list, no reload. */
(function () {
  "use strict";
  var list = document.querySelector("[data-comment-list]");
  if (!list) return;
  document.addEventListener("kehou:event", function (ev) {
    var d = ev.detail || {};
    if (d.kind === "notification" && d.type === "comment") { ev.preventDefault(); return; } /* shown below, no toast */
    if (d.kind !== "comment" || list.querySelector('[data-comment="' + d.id + '"]')) return;
    var empty = list.querySelector("[data-comment-empty]");
    if (empty) empty.parentNode.removeChild(empty);
    var li = document.createElement("li");
    li.className = "card cm-item fresh";
    li.dataset.comment = d.id;
    var head = document.createElement("div");
    head.className = "cm-head";
    var who = document.createElement("strong");
    who.textContent = d.pupil_name || "";
    var meta = document.createElement("span");
    meta.className = "muted";
    meta.textContent = " " + [d.course_class, d.date, d.teacher].filter(Boolean).join(" · ");
    head.appendChild(who);
    head.appendChild(meta);
    var text = document.createElement("p");
    text.className = "cm-text";
    text.textContent = d.text || "";
    li.appendChild(head);
    li.appendChild(text);
    if (d.tag_labels && d.tag_labels.length) {
      var tags = document.createElement("p");
      tags.className = "cm-tags";
      d.tag_labels.forEach(function (t) {
        var s = document.createElement("span");
        s.className = "tag ok";
        s.textContent = t;
        tags.appendChild(s);
        tags.appendChild(document.createTextNode(" "));
      });
      li.appendChild(tags);
    }
    var time = document.createElement("p");
    time.className = "muted cm-time";
    var at = d.created_at ? new Date(d.created_at) : new Date();
    time.textContent = ("0" + at.getHours()).slice(-2) + ":" + ("0" + at.getMinutes()).slice(-2);
    li.appendChild(time);
    list.insertBefore(li, list.firstChild);
  });
})();

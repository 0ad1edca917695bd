// Live pages (app/web/live.py): every few seconds, ask for this page again with its ETag. An unchanged
// page answers 304 with no body; a changed one comes back whole, and each element marked
// data-live-region is replaced by its namesake (same id) from the new page. Forms stay outside the
// regions, so nothing being typed is lost. "Updated N s ago" says when the page was last confirmed
// current; polling pauses while the tab is hidden and resumes (with a check at once) when it is shown.
(function () {
  "use strict";
  var status = document.getElementById("live-status");
  if (!status || !window.fetch || !window.DOMParser) return;
  var POLL_MS = 3000;
  var etag = status.getAttribute("data-live-etag");
  var ago = status.querySelector("[data-live-ago]");
  var confirmedAt = Date.now();
  var problem = null;
  var timer = null;
  var inFlight = false;

  function words(seconds) {
    if (seconds < 2) return "just now";
    if (seconds < 60) return seconds + " s ago";
    return Math.floor(seconds / 60) + " min ago";
  }

  function showAge() {
    var text = "Updated " + words(Math.floor((Date.now() - confirmedAt) / 1000));
    if (problem) text += " · " + problem;
    if (document.hidden) text += " · paused while hidden";
    if (ago.textContent !== text) ago.textContent = text;
  }

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    var complete = true;
    document.querySelectorAll("[data-live-region]").forEach(function (old) {
      var next = fresh.getElementById(old.id);
      if (!next) return;
      // Never pull the element someone is using from under them; fetch it again at the next poll.
      if (old.contains(document.activeElement) && document.activeElement !== document.body) {
        complete = false;
        return;
      }
      old.replaceWith(document.importNode(next, true));
    });
    var title = fresh.querySelector("title");
    if (title) document.title = title.textContent;
    document.dispatchEvent(new CustomEvent("pacer:live-updated"));
    return complete;
  }

  function poll() {
    if (inFlight || document.hidden) return;
    inFlight = true;
    fetch(window.location.href, {
      headers: { "If-None-Match": etag, Accept: "text/html", "X-Pacer-Live": "1" },
      credentials: "same-origin",
      cache: "no-store",
    })
      .then(function (response) {
        if (response.redirected) {
          problem = "signed out: reload the page";
          return null;
        }
        if (response.status === 304) {
          problem = null;
          confirmedAt = Date.now();
          return null;
        }
        if (!response.ok) throw new Error("HTTP " + response.status);
        var next = response.headers.get("ETag");
        return response.text().then(function (html) {
          if (swap(html) && next) etag = next;
          problem = null;
          confirmedAt = Date.now();
        });
      })
      .catch(function () {
        problem = "cannot reach Pacer, retrying";
      })
      .then(function () {
        inFlight = false;
        showAge();
        schedule();
      });
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = null;
    if (!document.hidden && problem !== "signed out: reload the page") timer = window.setTimeout(poll, POLL_MS);
  }

  document.addEventListener("visibilitychange", function () {
    showAge();
    if (document.hidden) {
      window.clearTimeout(timer);
      timer = null;
    } else {
      poll();
    }
  });

  window.setInterval(showAge, 1000);
  showAge();
  schedule();
})();

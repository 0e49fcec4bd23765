// The live queue: the console's one script. Every page works without it.
//
// It listens to GET /api/events (Server-Sent Events, the session cookie authenticates) and
// - on the queue page (#queue-rows), fetches the rows again on any event and on every
//   (re)connection, so nothing missed while the connection was down stays missing;
// - on a case page (#case-live), shows a notice with a reload link when an event concerns
//   the case on screen.
// Texts come from the page (data-* attributes, translated by the server).
(function () {
  "use strict";
  var status = document.getElementById("live-status");
  var rows = document.getElementById("queue-rows");
  var notice = document.getElementById("case-live");
  if (!(rows || notice) || !window.EventSource || !window.fetch) {
    return;
  }
  var KINDS = ["case.created", "case.claimed", "case.released", "case.assigned",
               "case.closed", "case.referred", "case.escalated", "message.inbound",
               "duty.changed", "resync"];
  var fetching = false;
  var again = false;

  function say(state) {
    document.body.setAttribute("data-live", state);
    if (status && status.dataset[state]) {
      status.textContent = status.dataset[state];
      status.setAttribute("data-state", state);
    }
  }

  function refresh() {
    if (!rows) {
      return;
    }
    if (fetching) {  // one request at a time; a burst of events makes one more fetch
      again = true;
      return;
    }
    fetching = true;
    fetch(rows.dataset.src, {credentials: "same-origin", cache: "no-store"})
      .then(function (response) {
        if (response.redirected || !response.ok) {
          throw new Error("rows: " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        rows.innerHTML = html;  // the server's own escaped template output
        rows.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function () {
        say("offline");
      })
      .then(function () {
        fetching = false;
        if (again) {
          again = false;
          refresh();
        }
      });
  }

  function concernsThisCase(kind, data) {
    if (!notice || !data || data.case_id !== notice.dataset.caseId) {
      return;
    }
    var text = notice.dataset[kind.replace(".", "_")] || notice.dataset.changed;
    notice.querySelector(".text").textContent = text;
    notice.hidden = false;
  }

  var source = new EventSource("/api/events");
  source.onopen = function () {
    say("live");
    refresh();
  };
  source.onerror = function () {
    // CONNECTING: the browser retries by itself; CLOSED: refused (signed out), give up.
    say(source.readyState === EventSource.CLOSED ? "offline" : "reconnecting");
  };
  KINDS.forEach(function (kind) {
    source.addEventListener(kind, function (event) {
      refresh();
      var data = null;
      try {
        data = JSON.parse(event.data);
      } catch (ignored) {
        return;
      }
      concernsThisCase(kind, data);
    });
  });
  window.addEventListener("pagehide", function () {
    source.close();
  });
}());

// The broadcast pages: the composer's live recipient count and the progress page's live figures.
// Loaded as a file (the dashboard's Content-Security-Policy forbids inline scripts).
(function () {
  "use strict";

  function text(id, value) {
    var node = document.getElementById(id);
    if (node) { node.textContent = String(value); }
  }

  // --- the composer: count the segment as it is built -------------------------------------------
  var compose = document.getElementById("compose");
  if (compose) {
    var timer = null;
    var asked = 0;
    var count = function () {
      var params = new URLSearchParams();
      compose.querySelectorAll("#segment select, #segment input").forEach(function (input) {
        if (input.tagName === "SELECT") {
          Array.prototype.forEach.call(input.selectedOptions, function (option) { params.append(input.name, option.value); });
        } else if (input.value) {
          params.append(input.name, input.value);
        }
      });
      var mine = ++asked;
      fetch(compose.dataset.countUrl + "?" + params.toString(), {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (mine !== asked) { return; }
          if (!data) { text("live-count", "?"); text("live-detail", "(check the filters)"); return; }
          text("live-count", data.recipients);
          text("live-detail", "(" + data.matched + " match; " + data.opted_out + " opted out; " + data.text +
               " text, " + data.template + " template, " + data.nothing + " nothing; about " + data.minutes + " min)" +
               (data.notes && data.notes.length ? " " + data.notes.join(" ") : ""));
          var nothing = document.getElementById("live-nothing");
          if (nothing) {
            nothing.hidden = !data.nothing;
            text("live-nothing-text", data.nothing ? data.nothing + " member" + (data.nothing === 1 ? "" : "s") + " of the segment will get nothing (" +
                 data.nothing_languages.join(", ") + ": no broadcast template, no fallback)." : "");
          }
          compose.dataset.counted = "true";
        });
    };
    var segment = document.getElementById("segment");
    var later = function (event) {
      if (!segment.contains(event.target)) { return; }  // only the segment changes the count
      clearTimeout(timer);
      timer = setTimeout(count, 250);
    };
    compose.addEventListener("change", later);
    compose.addEventListener("input", later);
    count();
  }

  // --- the progress page: poll the figures until the broadcast is over ---------------------------
  var progress = document.getElementById("progress");
  if (progress) {
    var finished = ["done", "cancelled"];
    var poll = function () {
      fetch(progress.dataset.figuresUrl, {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (p) {
          if (!p) { setTimeout(poll, 5000); return; }
          text("status", p.status + (p.paused_reason ? " (" + p.paused_reason.replace(/_/g, " ") + ")" : ""));
          var bar = document.getElementById("progress-bar");
          bar.max = p.total || 1;
          bar.value = p.done;
          bar.textContent = p.percent + "%";
          text("progress-text", p.done + " of " + p.total + " (" + p.percent + "%)");
          Object.keys(p.counts).forEach(function (key) { text("count-" + key, p.counts[key]); });
          var body = document.getElementById("reasons");
          while (body.firstChild) { body.removeChild(body.firstChild); }
          p.reasons.forEach(function (r) {
            var row = document.createElement("tr");
            [r.outcome, r.reason, r.code || "", r.count].forEach(function (value) {
              var cell = document.createElement("td");
              cell.textContent = String(value);
              row.appendChild(cell);
            });
            body.appendChild(row);
          });
          document.querySelectorAll(".controls form").forEach(function (form) {
            form.hidden = p.actions.indexOf(form.dataset.action) < 0;
          });
          progress.dataset.polled = String(Number(progress.dataset.polled || 0) + 1);
          if (finished.indexOf(p.status) < 0) { setTimeout(poll, 2000); }
        })
        .catch(function () { setTimeout(poll, 5000); });
    };
    setTimeout(poll, 1000);
  }
}());

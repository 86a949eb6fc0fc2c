/* Results as you type, over /api/search. The form works without this script (plain GET to /recherche);
   this only adds live results under the box. Loaded with `defer`; no inline script anywhere (CSP). */
(function () {
  "use strict";

  var DEBOUNCE_MS = 250;
  var LIMIT = 8;
  var MIN_CHARS = 2;

  var form = document.querySelector("form[data-live-search]");
  var panel = document.getElementById("live-results");
  if (!form || !panel || !window.fetch) { return; }

  var input = form.querySelector("input[name='q']");
  var status = panel.querySelector(".live-status");
  var list = panel.querySelector(".hits");
  var pageResults = document.getElementById("page-results");
  var timer = null;
  var controller = null;
  // What the server already answered (the results page prints them); a value typed or restored since is not.
  var lastQuery = input.defaultValue.trim();

  function entryUrl(result, query) {
    // The query travels with the click so the search log knows which search led to which answer.
    // In the embedded panel (data-entry-base), entries open inside the panel.
    var base = form.dataset.entryBase;
    return (base ? base + encodeURIComponent(result.id) : result.url) + "?q=" + encodeURIComponent(query);
  }

  function render(data, query) {
    list.textContent = "";
    var results = data.results || [];
    results.forEach(function (result) {
      var item = document.createElement("li");
      item.className = "hit";
      var link = document.createElement("a");
      link.className = "hit-link";
      link.href = entryUrl(result, query);
      var question = document.createElement("span");
      question.className = "hit-question";
      // question_html / snippet_html are escaped by the server; only <mark> is markup in them.
      if (result.question_html) { question.innerHTML = result.question_html; } else { question.textContent = result.question; }
      link.appendChild(question);
      item.appendChild(link);
      if (result.snippet_html) {
        var snippet = document.createElement("p");
        snippet.className = "hit-snippet";
        snippet.innerHTML = result.snippet_html;
        item.appendChild(snippet);
      }
      list.appendChild(item);
    });
    var message;
    if (!results.length) {
      message = panel.dataset.msgNone;
    } else {
      message = results.length === 1 ? panel.dataset.msgOne : panel.dataset.msgMany.replace("{n}", results.length);
      if (data.corrected_query) { message += " " + panel.dataset.msgCorrected.replace("{q}", data.corrected_query); }
    }
    // A long paste is searched on its beginning only (the server cuts it): say so rather than cut silently.
    var max = parseInt(panel.dataset.max || "500", 10);
    if (query.length > max && panel.dataset.msgLong) { message = panel.dataset.msgLong.replace("{max}", max) + " " + message; }
    status.textContent = message;
    panel.hidden = false;
    if (pageResults) { pageResults.hidden = true; }
  }

  function clear() {
    list.textContent = "";
    status.textContent = "";
    panel.hidden = true;
    if (pageResults) { pageResults.hidden = false; }
  }

  function search(query) {
    if (controller) { controller.abort(); }
    controller = window.AbortController ? new AbortController() : null;
    // Only what the server searches travels: a long paste does not make a URL too long to serve.
    var max = parseInt(panel.dataset.max || "500", 10);
    var url = "/api/search?suggest=1&limit=" + LIMIT + "&q=" + encodeURIComponent(query.slice(0, max));
    fetch(url, { headers: { Accept: "application/json" }, signal: controller ? controller.signal : undefined })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        if (input.value.trim() === query) { render(data, query); }
      })
      .catch(function (error) {
        // Aborted by the next keystroke: nothing to say. Refused or offline: say so — the form still submits.
        if (error && error.name === "AbortError") { return; }
        if (input.value.trim() === query) { unavailable(); }
      });
  }

  function unavailable() {
    list.textContent = "";
    status.textContent = panel.dataset.msgError;
    panel.hidden = false;
    if (pageResults) { pageResults.hidden = false; }
  }

  function changed() {
    var query = input.value.trim();
    if (query === lastQuery) { return; }
    lastQuery = query;
    window.clearTimeout(timer);
    if (query.length < MIN_CHARS) { clear(); return; }
    timer = window.setTimeout(function () { search(query); }, DEBOUNCE_MS);
  }

  input.addEventListener("input", changed);
  // Typed before this script ran (a quick typist while the page loads: the panel gives the box its focus first),
  // or put back by the browser on « Retour »: searched now, not at the next keystroke.
  changed();

  // Arrow down from the box goes to the first result; up/down move between results; Escape goes back.
  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown") {
      var first = list.querySelector("a");
      if (first) { event.preventDefault(); first.focus(); }
    }
  });
  list.addEventListener("keydown", function (event) {
    var links = Array.prototype.slice.call(list.querySelectorAll("a"));
    var index = links.indexOf(document.activeElement);
    if (index < 0) { return; }
    if (event.key === "ArrowDown" && index < links.length - 1) { event.preventDefault(); links[index + 1].focus(); }
    if (event.key === "ArrowUp") { event.preventDefault(); (index > 0 ? links[index - 1] : input).focus(); }
    if (event.key === "Escape") { event.preventDefault(); input.focus(); }
  });
})();

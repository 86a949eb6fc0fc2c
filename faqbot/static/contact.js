// Contact flow, progressive enhancement only: every step works without this file.
// 1. Step 1: suggest a reason while the visitor types (POST /api/triage/suggest), announced politely.
// 2. Withdrawal pre-checks: show the transfer dates only when the centre cancelled the stage.
(function () {
  "use strict";

  function suggestWhileTyping() {
    var form = document.querySelector(".suggest-form");
    var live = document.getElementById("suggestion-live");
    if (!form || !live || !window.fetch) return;
    var textarea = form.querySelector("textarea");
    var timer = null;
    var lastSent = "";
    textarea.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        var text = textarea.value.trim();
        if (text.length < 12 || text === lastSent) return;
        lastSent = text;
        fetch("/api/triage/suggest", {
          method: "POST",
          headers: { "Content-Type": "application/json", "Accept": "application/json" },
          body: JSON.stringify({ message: text })
        }).then(function (response) {
          return response.ok ? response.json() : null;
        }).then(function (data) {
          if (!data || textarea.value.trim() !== text) return;
          showSuggestion(live, data);
        }).catch(function () { /* the button still works without suggestions */ });
      }, 400);
    });
  }

  // One likely reason: its label and a button. Too close to call (data.uncertain): the two likeliest, one button
  // each, named by their card's title. Sentences come from the page (gettext) through data-msg-* attributes.
  function showSuggestion(live, data) {
    var reasons = [data.reason];
    if (data.uncertain && data.alternatives && data.alternatives.length) reasons.push(data.alternatives[0].reason);
    live.textContent = "";
    var p = document.createElement("p");
    if (reasons.length === 1) {
      p.textContent = (live.dataset.msgLikely || "{label}").replace("{label}", data.label);
    } else {
      p.textContent = live.dataset.msgTwo || "";
    }
    live.appendChild(p);
    reasons.forEach(function (reasonId) {
      var card = document.querySelector('.reason-card[data-reason="' + reasonId + '"]');
      if (!card) return;
      var link = document.createElement("a");
      link.href = card.getAttribute("href");
      link.className = "button";
      link.setAttribute("data-reason", reasonId);
      var title = card.querySelector(".reason-title");
      link.textContent = reasons.length === 1 ? live.dataset.msgContinue : (title ? title.textContent : reasonId);
      live.appendChild(link);
    });
  }

  function toggleTransferFields() {
    var form = document.querySelector('.contact-form[data-reason="delai-retractation"]');
    if (!form) return;
    var select = form.querySelector('select[name="f_annulation_centre"]');
    if (!select) return;
    var wraps = form.querySelectorAll('[data-field="date_transfert"], [data-field="premier_jour_nouveau_stage"]');
    function update() {
      var show = select.value === "oui";
      for (var i = 0; i < wraps.length; i++) {
        var input = wraps[i].querySelector("input");
        // Keep a field visible when it carries an error or a value, so nothing typed is hidden.
        wraps[i].hidden = !show && !(input && (input.value || input.getAttribute("aria-invalid") === "true"));
      }
    }
    select.addEventListener("change", update);
    update();
  }

  suggestWhileTyping();
  toggleTransferFields();
})();

/* faqbot's help on another site: <script src="https://aide.example/widget.js" async></script>
   Adds a « Aide » button; it opens a panel whose content is faqbot's own pages in an iframe (search as you type,
   the answers, the contact form). The iframe is cross-origin: the host page cannot read what the visitor types,
   and the panel sends the host nothing but « close ». Styles are set property by property (no <style>, no
   style= markup), so the host's Content-Security-Policy needs no change beyond allowing this script and frame. */
(function () {
  "use strict";
  if (window.faqbotWidgetLoaded) { return; }
  window.faqbotWidgetLoaded = true;

  var script = document.currentScript || document.querySelector('script[src$="/widget.js"]');
  if (!script || !window.URL) { return; }
  var origin = new URL(script.src, document.baseURI).origin;
  var PANEL_ID = "faqbot-aide-panel";
  var BRAND = "#0b5cad";

  function css(element, rules) {
    for (var name in rules) { if (Object.prototype.hasOwnProperty.call(rules, name)) { element.style.setProperty(name, rules[name]); } }
  }

  function phone() { return window.matchMedia("(max-width: 600px)").matches; }

  var launcher = document.createElement("button");
  launcher.type = "button";
  launcher.textContent = "Aide";
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", PANEL_ID);
  launcher.setAttribute("aria-label", "Aide et support : ouvrir");
  launcher.setAttribute("data-faqbot", "launcher");
  css(launcher, {
    position: "fixed", right: "16px", bottom: "16px", "z-index": "2147483000", "min-height": "48px", "min-width": "48px",
    padding: "10px 20px", border: "2px solid #fff", "border-radius": "999px", background: BRAND, color: "#fff",
    font: "700 16px/1.2 system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif", cursor: "pointer",
    "box-shadow": "0 4px 14px rgba(0,0,0,.3)"
  });

  var container = null;
  var isOpen = false;
  var frame = null;
  var closeButton = null;

  function layout() {
    if (!container) { return; }
    if (phone()) {
      css(container, { left: "0", top: "0", right: "0", bottom: "0", width: "100%", height: "100%", "border-radius": "0" });
    } else {
      css(container, { left: "auto", top: "auto", right: "16px", bottom: "80px", width: "400px",
        height: "min(640px, calc(100vh - 100px))", "border-radius": "12px" });
    }
  }

  function build() {
    container = document.createElement("div");
    container.id = PANEL_ID;
    container.setAttribute("role", "dialog");
    container.setAttribute("aria-label", "Aide et support");
    container.hidden = true;
    css(container, { position: "fixed", "z-index": "2147483001", display: "none", "flex-direction": "column", "box-sizing": "border-box",
      background: "#fff", overflow: "hidden", "box-shadow": "0 8px 30px rgba(0,0,0,.35)", border: "1px solid #c9d1d9" });
    var bar = document.createElement("div");
    css(bar, { display: "flex", "justify-content": "flex-end", background: BRAND, padding: "4px" });
    closeButton = document.createElement("button");
    closeButton.type = "button";
    closeButton.textContent = "Fermer ×";
    closeButton.setAttribute("aria-label", "Fermer l’aide");
    css(closeButton, { "min-height": "44px", padding: "6px 14px", background: "transparent", color: "#fff",
      border: "2px solid #fff", "border-radius": "8px", font: "600 15px/1.2 system-ui, sans-serif", cursor: "pointer" });
    closeButton.addEventListener("click", close);
    bar.appendChild(closeButton);
    frame = document.createElement("iframe");
    frame.title = "Aide et support";
    frame.src = origin + "/widget/";
    // Its own origin, scripts and forms; no top navigation, no popups the host did not ask for.
    frame.setAttribute("sandbox", "allow-scripts allow-forms allow-same-origin allow-popups allow-popups-to-escape-sandbox");
    frame.setAttribute("referrerpolicy", "no-referrer");
    css(frame, { flex: "1", width: "100%", border: "0", display: "block" });
    container.appendChild(bar);
    container.appendChild(frame);
    container.addEventListener("keydown", function (event) { if (event.key === "Escape") { close(); } });
    document.body.appendChild(container);
    layout();
  }

  function focusPanel() {
    frame.focus();
    frame.contentWindow.postMessage({ faqbot: "focus" }, origin);
  }

  function open() {
    if (!container) { build(); }
    isOpen = true;
    container.hidden = false;
    css(container, { display: "flex" });
    layout();
    launcher.setAttribute("aria-expanded", "true");
    if (phone()) { launcher.hidden = true; }
    focusPanel();
  }

  function close() {
    if (!isOpen) { return; }
    isOpen = false;
    container.hidden = true;
    css(container, { display: "none" });
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  launcher.addEventListener("click", function () {
    if (isOpen) { close(); } else { open(); }
  });
  window.addEventListener("message", function (event) {
    if (event.origin !== origin || !frame || event.source !== frame.contentWindow) { return; }
    if (event.data && event.data.faqbot === "close") { close(); }
    if (event.data && event.data.faqbot === "ready" && isOpen) { focusPanel(); }
  });
  window.addEventListener("resize", layout);

  function mount() { document.body.appendChild(launcher); }
  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }
})();

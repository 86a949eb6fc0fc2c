/* The embedded panel (inside the booking site's iframe). Talks to its parent with three messages, carrying no
   data: the panel says « ready » when a page loads and « close » on Escape; the parent answers « focus ». */
(function () {
  "use strict";
  if (window.parent === window) { return; }  // opened on its own: nothing to talk to

  function focusStart() {
    // The search box on the first page; elsewhere the page's heading, so a screen reader starts at the top.
    var target = document.getElementById("q") || document.querySelector(".error-summary, .problems") || document.querySelector("main h1");
    if (target) { target.focus(); }
  }

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || !event.data || event.data.faqbot !== "focus") { return; }
    focusStart();
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !event.defaultPrevented) {
      window.parent.postMessage({ faqbot: "close" }, "*");
    }
  });

  // Each new page of the panel starts where a keyboard or screen-reader user expects it (not on <body>). Chromium
  // ignores `autofocus` and `focus()` in a cross-origin frame the host has not focused: the panel says « ready »,
  // the host focuses the frame and answers « focus ».
  window.parent.postMessage({ faqbot: "ready" }, "*");
})();

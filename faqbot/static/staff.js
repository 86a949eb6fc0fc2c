// Staff console: insert a FAQ answer into the reply at the cursor, without leaving the page.
// Without JavaScript the "Insérer" button reloads the ticket with the answer in the reply (GET, no state change).
(function () {
  "use strict";
  var form = document.querySelector("form.canned");
  var reply = document.querySelector("form.reply textarea");
  if (!form || !reply) { return; }
  var touched = false; // before the agent clicks in the reply, insert after the greeting, not before it
  reply.addEventListener("focus", function () { touched = true; });
  form.addEventListener("submit", function (event) {
    var select = form.querySelector("select");
    var url = form.getAttribute("data-canned-url");
    if (!select || !url || !window.fetch) { return; }
    event.preventDefault();
    var confirmBox = form.querySelector("input[name=canned_confirm]");
    var confirmed = confirmBox && confirmBox.checked ? "?confirm=1" : "";
    fetch(url.replace("__ID__", encodeURIComponent(select.value)) + confirmed, {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (data) {
      var start = reply.selectionStart, end = reply.selectionEnd;
      if (!touched) {
        var gap = reply.value.indexOf("\n\n");
        start = end = gap >= 0 ? gap + 2 : reply.value.length;
      }
      var text = data.text + "\n";
      reply.value = reply.value.slice(0, start) + text + reply.value.slice(end);
      reply.focus();
      reply.selectionStart = reply.selectionEnd = start + text.length;
    }).catch(function () {
      form.submit(); // fall back to the server-side insertion
    });
  });
}());

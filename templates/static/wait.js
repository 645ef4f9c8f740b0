// A page waiting on the server (an invoice being issued, a payment being confirmed). The element with
// data-wait-url is a polite status region; data-wait-while holds "field=value,value ..." conditions.
// The JSON is asked every two seconds and, once a condition no longer holds, the page is loaded again.
// No <meta refresh>: nothing reloads while the visitor may be using the page's controls. Without
// JavaScript the region's own link does the same.
(function () {
  var region = document.querySelector("[data-wait-url]");
  if (!region) { return; }
  var url = region.getAttribute("data-wait-url"), tries = 0;
  var conditions = region.getAttribute("data-wait-while").split(" ").map(function (c) {
    var parts = c.split("=");
    return {field: parts[0], values: parts[1].split(",")};
  });
  function waiting(data) {
    return conditions.every(function (c) { return c.values.indexOf(String(data[c.field])) >= 0; });
  }
  function again() { if (++tries < 90) { setTimeout(check, 2000); } }
  function check() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data && !waiting(data)) { window.location.reload(); } else { again(); } }, again);
  }
  setTimeout(check, 1000);
})();

// A page waiting on the server (an invoice being issued, a payment being confirmed): the element with
// data-wait-url is a polite status region; its JSON is asked every two seconds and, once the field has
// one of the awaited values, the page is loaded again. No <meta refresh>: nothing reloads while the
// visitor may be using the page's controls. Without JavaScript the region's own link does the same.
(function () {
  var region = document.querySelector("[data-wait-url]");
  if (!region) { return; }
  var url = region.getAttribute("data-wait-url"), field = region.getAttribute("data-wait-field");
  var until = region.getAttribute("data-wait-until").split(" "), tries = 0;
  function again() { if (++tries < 90) { setTimeout(check, 2000); } }
  function check() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data && until.indexOf(String(data[field])) >= 0) { window.location.reload(); } else { again(); }
      }, again);
  }
  setTimeout(check, 1000);
})();

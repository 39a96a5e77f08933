// Behaviour of the portal's pages, bound through data attributes: the Content-Security-Policy allows no
// inline script (no onclick, no javascript: links). One delegated listener also covers content that htmx
// swaps in later.
(function () {
  "use strict";

  var actions = {
    // "Cancel" of an inline update form: empty the table row that holds it.
    "dismiss-row": function (element) {
      var row = element.closest("tr");
      if (row) {
        row.replaceChildren();
      }
    },
    print: function () {
      window.print();
    },
  };

  document.addEventListener("click", function (event) {
    var element = event.target.closest("[data-action]");
    if (!element) {
      return;
    }
    var action = actions[element.getAttribute("data-action")];
    if (action) {
      event.preventDefault();
      action(element);
    }
  });

  // Logged out (a page without the signed-in user's name): the report form kept for working offline belongs to
  // the person who left; delete it, so that nobody else on this browser opens it (reports.offline). The
  // reports waiting in the browser's queue stay, each with its user, until that user opens the form again.
  if (!document.querySelector("[data-testid=whoami]") && window.caches) {
    window.caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("plan02-report-form-") === 0;
      }).map(function (name) {
        return window.caches.delete(name);
      }));
    }).catch(function () {});
  }
})();

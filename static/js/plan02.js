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
})();

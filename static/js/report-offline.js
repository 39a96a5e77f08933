// The daily-report form offline (DESIGN.md §12), on /reports/submit/: registers the form's service worker
// (report-sw.js), queues a report submitted without a connection (report-queue.js, IndexedDB) and sends the
// queue through the report API (§5, the session and its CSRF token) on load, when the browser is back online,
// by Background Sync where the browser has it, and with the "send now" button; one at a time, with backoff.
// The texts come translated from the page (data-text-* of the queue's section).
(function () {
  "use strict";

  var form = document.querySelector("form[data-offline-user]");
  var section = document.querySelector("[data-testid=offline-queue]");
  var queue = window.Plan02ReportQueue;
  if (!form || !section || !queue || !window.indexedDB) {
    return;
  }
  var user = form.getAttribute("data-offline-user");
  var api = form.getAttribute("data-offline-api");
  var list = section.querySelector("[data-testid=queue-items]");
  var status = section.querySelector("[data-testid=offline-status]");
  var backoff = 0;
  var timer = null;
  var sending = false;
  var again = false;

  function text(name) {
    return section.getAttribute("data-text-" + name) || name;
  }

  function csrfToken() {
    var name = form.getAttribute("data-csrf-cookie") + "=";
    var cookie = document.cookie.split("; ").filter(function (part) {
      return part.indexOf(name) === 0;
    })[0];
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return cookie ? decodeURIComponent(cookie.slice(name.length)) : input && input.value;
  }

  // The report's payload from the form, converted as the server converts a form (reports.validation.
  // payload_from_text): empty cells left out, whole numbers as numbers, any other text as it is (the server
  // then names the field).
  function payload() {
    var data = new FormData(form);
    var body = { outage_systems: data.getAll("outage_systems"), support_needed: data.get("support_needed") !== null };
    form.querySelectorAll("input[type=number], input[name=locality], select[name=locality], input[name=date], textarea").forEach(function (field) {
      var value = (field.value || "").trim();
      if (value === "") {
        return;
      }
      body[field.name] = field.type === "number" && /^[+-]?\d+$/.test(value) ? parseInt(value, 10) : value;
    });
    return body;
  }

  function fill(body) {
    form.reset();
    Object.keys(body).forEach(function (name) {
      if (name === "outage_systems") {
        form.querySelectorAll("input[name=outage_systems]").forEach(function (box) {
          box.checked = body.outage_systems.indexOf(box.value) !== -1;
        });
      } else if (name === "support_needed") {
        form.elements.support_needed.checked = !!body.support_needed;
      } else if (form.elements[name]) {
        form.elements[name].value = body[name];
      }
    });
  }

  function label(name) {
    var element = form.querySelector("label[for=id_" + name + "]");
    return element ? element.firstChild.textContent.trim() : name;
  }

  function element(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (key) {
      node.setAttribute(key, attributes[key]);
    });
    (children || []).forEach(function (child) {
      node.append(child);
    });
    return node;
  }

  function button(action, id, caption) {
    return element("button", { type: "button", class: "link", "data-queue-action": action, "data-client-id": id }, [caption]);
  }

  function render(items) {
    list.replaceChildren();
    section.hidden = items.length === 0 && navigator.onLine;
    items.forEach(function (item) {
      var head = item.payload.locality + " · " + item.payload.date + " — ";
      var li = element("li", { "data-testid": "queue-item", "data-state": item.state, "data-client-id": item.id }, [
        head,
        element("strong", { "data-testid": "queue-state" }, [text(item.state)]),
      ]);
      if (item.state === "sent") {
        li.append(" ", text("receipt") + " ", element("code", { "data-testid": "queue-receipt" }, [item.receipt]));
      }
      if (item.state === "waiting" && item.note) {
        li.append(element("div", { class: "muted" }, [item.note]));
      }
      if (item.state === "refused") {
        var errors = element("ul", { class: "errorlist", "data-testid": "queue-errors" });
        if (item.detail) {
          errors.append(element("li", {}, [item.detail]));
        }
        Object.keys(item.errors || {}).forEach(function (name) {
          item.errors[name].forEach(function (error) {
            errors.append(element("li", { "data-field": name }, [label(name) + " (" + name + "): " + error.message]));
          });
        });
        li.append(errors, button("edit", item.id, text("edit")), " ", button("remove", item.id, text("remove")));
      }
      if (item.state === "conflict") {
        var rows = Object.keys(item.diff).map(function (name) {
          var values = item.diff[name];
          return element("tr", { "data-field": name }, [
            element("td", {}, [label(name)]),
            element("td", {}, [String(values.stored)]),
            element("td", {}, [String(values.submitted)]),
          ]);
        });
        li.append(
          element("div", {}, [text("conflict-detail") + " ", element("code", {}, [item.receipt || ""])]),
          element("table", { class: "table", "data-testid": "queue-diff" }, [
            element("thead", {}, [element("tr", {}, [
              element("th", {}, [text("field")]), element("th", {}, [text("stored")]), element("th", {}, [text("sent-value")]),
            ])]),
            element("tbody", {}, rows),
          ]),
          button("remove", item.id, text("remove"))
        );
      }
      list.append(li);
    });
    status.textContent = navigator.onLine ? "" : text("offline");
    status.hidden = navigator.onLine;
  }

  function refresh() {
    return queue.list(user).then(render);
  }

  function schedule(result) {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    if (result === "done") {
      backoff = 0;
      return;
    }
    backoff = Math.min(backoff ? backoff * 2 : 5000, 300000);
    if (navigator.onLine) {
      timer = setTimeout(flush, backoff);
    }
  }

  function flush() {
    if (sending) {
      again = true; // asked while sending: the items queued meanwhile go in another round
      return Promise.resolve();
    }
    sending = true;
    again = false;
    return queue.flush({ user: user, api: api, csrf: csrfToken(), onChange: refresh }).then(
      function (result) {
        sending = false;
        schedule(result);
        section.setAttribute("data-last-flush", result);
        return refresh().then(function () {
          return again && result === "done" ? flush() : null;
        });
      },
      function () {
        sending = false;
        return refresh();
      }
    );
  }

  form.addEventListener("submit", function (event) {
    if (navigator.onLine) {
      return; // the form posts as it always did
    }
    event.preventDefault();
    var body = payload();
    form.reset(); // at once: what is typed next belongs to the next report
    queue.add(user, body, csrfToken()).then(function () {
      return refresh();
    }).then(function () {
      if (navigator.serviceWorker && navigator.serviceWorker.ready) {
        navigator.serviceWorker.ready.then(function (registration) {
          return registration.sync && registration.sync.register("plan02-report-queue");
        }).catch(function () {});
      }
    });
  });

  section.addEventListener("click", function (event) {
    var target = event.target.closest("[data-queue-action]");
    if (!target) {
      return;
    }
    var id = target.getAttribute("data-client-id");
    var action = target.getAttribute("data-queue-action");
    if (action === "send") {
      backoff = 0;
      flush();
    } else if (action === "remove") {
      queue.remove(id).then(refresh);
    } else if (action === "edit") {
      queue.list(user).then(function (items) {
        var item = items.filter(function (each) {
          return each.id === id;
        })[0];
        if (item) {
          fill(item.payload);
          return queue.remove(id).then(refresh);
        }
        return null;
      });
    }
  });

  window.addEventListener("online", function () {
    backoff = 0;
    flush();
  });
  window.addEventListener("offline", refresh);

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.type === "flush") {
        flush();
      }
    });
    navigator.serviceWorker.register(form.getAttribute("data-offline-worker"), { scope: form.getAttribute("data-offline-scope") })
      .then(function () {
        return navigator.serviceWorker.ready;
      })
      .then(function (registration) {
        if (!navigator.onLine || navigator.serviceWorker.controller) {
          // Opened through the worker: the worker has just kept this page (or served it from its cache).
          form.setAttribute("data-offline-ready", "cached");
          return;
        }
        var channel = new MessageChannel();
        channel.port1.onmessage = function (event) {
          form.setAttribute("data-offline-ready", event.data.kept ? "cached" : "not-cached");
        };
        registration.active.postMessage({ type: "keep-page" }, [channel.port2]);
      })
      .catch(function () {
        form.setAttribute("data-offline-ready", "unsupported");
      });
  }

  queue.recover(user).then(refresh).then(function () {
    return navigator.onLine ? flush() : null;
  });
})();

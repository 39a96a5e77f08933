// The report form's service worker (DESIGN.md §12). Served by reports.views.report_service_worker at
// /reports/submit/sw.js (scope: the form's address, nothing else), which writes the configuration below
// (reports.offline): the cache's version (a digest of this file and of every file cached), the static files
// of the form's page, the form's address and the report API's.
//
// - GET requests only, and only the form's page and its static files: no POST, no other page, ever.
// - The form's page: from the network first (and then kept), from the cache when there is no connection.
// - Its static files: from the cache, filled when the worker installs.
// - A new version's cache replaces the earlier ones when it activates. Logging out deletes them (plan02.js,
//   on the first page without a session), so the next person on this browser never gets someone else's form.
// - Background Sync ("plan02-report-queue"), where the browser has it: sends the queued reports (report-queue.js).
"use strict";

var CONFIG = /*PLAN02_CONFIG*/ {
  version: "source",
  cache: "plan02-report-form-source",
  prefix: "plan02-report-form-",
  assets: [],
  queue: "/static/js/report-queue.js",
  page: "/reports/submit/",
  api: "/api/v1/reports/daily/",
};

importScripts(CONFIG.queue);

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CONFIG.cache).then(function (cache) {
      return cache.addAll(CONFIG.assets);
    }).then(function () {
      return self.skipWaiting();
    })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf(CONFIG.prefix) === 0 && name !== CONFIG.cache;
      }).map(function (name) {
        return caches.delete(name);
      }));
    }).then(function () {
      return self.clients.claim();
    })
  );
});

// Keep the form's page when it came from the server as itself (not a redirect to the login page, not an error).
function keep(response) {
  if (response.ok && !response.redirected && response.type === "basic") {
    var copy = response.clone();
    return caches.open(CONFIG.cache).then(function (cache) {
      return cache.put(CONFIG.page, copy);
    }).then(function () {
      return response;
    });
  }
  return Promise.resolve(response);
}

function formPage(request) {
  return fetch(request).then(keep, function () {
    return caches.open(CONFIG.cache).then(function (cache) {
      return cache.match(CONFIG.page);
    }).then(function (cached) {
      return cached || Response.error();
    });
  });
}

function asset(request) {
  return caches.open(CONFIG.cache).then(function (cache) {
    return cache.match(request).then(function (cached) {
      return cached || fetch(request);
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") {
    return;
  }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.mode === "navigate" && url.pathname === CONFIG.page) {
    event.respondWith(formPage(request));
  } else if (CONFIG.assets.indexOf(url.pathname) !== -1) {
    event.respondWith(asset(request));
  }
});

// The page asks for itself to be kept on its first visit (it was not yet under this worker when it loaded).
self.addEventListener("message", function (event) {
  if (!event.data || event.data.type !== "keep-page") {
    return;
  }
  var port = event.ports[0];
  event.waitUntil(
    fetch(CONFIG.page, { credentials: "same-origin" }).then(keep).then(
      function (response) {
        port.postMessage({ kept: response.ok && !response.redirected, version: CONFIG.version });
      },
      function () {
        port.postMessage({ kept: false, version: CONFIG.version });
      }
    )
  );
});

self.addEventListener("sync", function (event) {
  if (event.tag !== "plan02-report-queue") {
    return;
  }
  // An open form sends its own queue (with its session's current CSRF token): ask it. With no form open, the
  // worker sends, each item with the CSRF token of the session that queued it: after another login that token
  // is refused (Django rotates it at login), and the item waits for its own user's form.
  event.waitUntil(
    self.clients.matchAll({ type: "window" }).then(function (windows) {
      var forms = windows.filter(function (client) {
        return new URL(client.url).pathname === CONFIG.page;
      });
      if (forms.length) {
        forms[0].postMessage({ type: "flush" });
        return null;
      }
      return self.Plan02ReportQueue.flush({ user: null, api: CONFIG.api }).then(function (result) {
        if (result !== "done") {
          throw new Error("the queue is not empty: " + result);
        }
      });
    })
  );
});

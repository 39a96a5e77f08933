// The queue of daily reports made offline (DESIGN.md §12), in IndexedDB: shared by the report form's page
// (report-offline.js) and its service worker (report-sw.js, for Background Sync). Written for plan02, no library.
//
// An item: {id (a client UUID), user, payload (the §5 report), state, created, csrf, tries, ...the answer}.
// States: waiting → sending → sent | refused | conflict; sending → waiting when no answer came (offline, the
// session ended, the server busy). An item is claimed (waiting → sending) in one IndexedDB transaction before
// it is posted, so two senders (two tabs, the page and the worker) never post it at the same time; an answer
// lost with a closed tab leaves it `sending`, and `recover` puts it back to wait: posting it again is safe,
// since the API answers an identical replay with the same receipt and stores nothing new (§5).
(function (root) {
  "use strict";

  var DATABASE = "plan02-reports";
  var STORE = "queue";
  var KEEP_SENT_MS = 14 * 24 * 3600 * 1000;

  function open() {
    return new Promise(function (resolve, reject) {
      var request = root.indexedDB.open(DATABASE, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(STORE, { keyPath: "id" }).createIndex("user", "user");
      };
      request.onsuccess = function () {
        resolve(request.result);
      };
      request.onerror = function () {
        reject(request.error);
      };
    });
  }

  // One transaction: `work(store, done)` makes its requests and calls done(value) with what to resolve with.
  function transaction(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var value;
        tx.oncomplete = function () {
          db.close();
          resolve(value);
        };
        tx.onerror = tx.onabort = function () {
          db.close();
          reject(tx.error);
        };
        work(tx.objectStore(STORE), function (result) {
          value = result;
        });
      });
    });
  }

  function uuid() {
    if (root.crypto && root.crypto.randomUUID) {
      return root.crypto.randomUUID();
    }
    var bytes = root.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) {
      return (b + 0x100).toString(16).slice(1);
    }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  function add(user, payload, csrf) {
    var item = { id: uuid(), user: user, payload: payload, csrf: csrf, state: "waiting", created: Date.now(), tries: 0 };
    return transaction("readwrite", function (store, done) {
      store.add(item);
      done(item);
    });
  }

  // Every item of a user (all users' when user is null), oldest first.
  function list(user) {
    return transaction("readonly", function (store, done) {
      var request = user === null ? store.getAll() : store.index("user").getAll(user);
      request.onsuccess = function () {
        done(request.result.sort(function (a, b) {
          return a.created - b.created;
        }));
      };
    });
  }

  // Change one item in one transaction: change(item) returns the new item, or null to leave it as it is.
  function update(id, change) {
    return transaction("readwrite", function (store, done) {
      var request = store.get(id);
      request.onsuccess = function () {
        var next = request.result ? change(request.result) : null;
        if (next) {
          store.put(next);
        }
        done(next);
      };
    });
  }

  function remove(id) {
    return transaction("readwrite", function (store, done) {
      store.delete(id);
      done(true);
    });
  }

  // After a tab closed mid-send (its answer lost): back to waiting; and sent items older than two weeks go.
  function recover(user) {
    var now = Date.now();
    return list(user).then(function (items) {
      return Promise.all(items.map(function (item) {
        if (item.state === "sending") {
          return update(item.id, function (current) {
            return current.state === "sending" ? Object.assign(current, { state: "waiting" }) : null;
          });
        }
        if (item.state === "sent" && now - (item.settled || now) > KEEP_SENT_MS) {
          return remove(item.id);
        }
        return null;
      }));
    });
  }

  // What the API's answer settles (§5), or null: the item waits and is sent again later.
  function settle(status, body) {
    if (status === 200 || status === 201) {
      return { state: "sent", receipt: body.receipt, outcome: body.status, url: body.url, late: !!body.late };
    }
    if (status === 409 && body.code === "report_exists") {
      return { state: "conflict", receipt: body.receipt, diff: body.diff || {} };
    }
    if (status === 400 || status === 413 || status === 409 || (status === 403 && body.code === "outside_scope")) {
      return { state: "refused", code: body.code || "", detail: body.detail || "", errors: body.errors || {} };
    }
    return null; // 401/403 (no session, a stale CSRF token), 429, 5xx
  }

  function post(api, item, csrf) {
    return root.fetch(api, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf || item.csrf },
      body: JSON.stringify(item.payload),
    }).then(function (response) {
      return response.json().catch(function () {
        return {};
      }).then(function (body) {
        return { status: response.status, body: body };
      });
    });
  }

  // Send one item: "sent" when the server settled it, "retry" when it answered without settling, "offline"
  // when no answer came, "skipped" when another sender holds it or it is no longer waiting.
  function send(id, options) {
    return update(id, function (item) {
      return item.state === "waiting" ? Object.assign(item, { state: "sending", tries: (item.tries || 0) + 1 }) : null;
    }).then(function (item) {
      if (!item) {
        return "skipped";
      }
      return post(options.api, item, options.csrf).then(
        function (answer) {
          var settled = settle(answer.status, answer.body);
          return update(id, function (current) {
            if (current.state !== "sending") {
              return null;
            }
            if (settled) {
              return Object.assign(current, settled, { settled: Date.now(), note: "" });
            }
            return Object.assign(current, { state: "waiting", note: (answer.body && answer.body.detail) || "" });
          }).then(function () {
            return settled ? "sent" : "retry";
          });
        },
        function () {
          return update(id, function (current) {
            return current.state === "sending" ? Object.assign(current, { state: "waiting" }) : null;
          }).then(function () {
            return "offline";
          });
        }
      );
    });
  }

  // Send the waiting items of options.user (all users' when null), one at a time, oldest first; stop at the
  // first without an answer that settles it. Resolves with "done", "retry" or "offline".
  function flush(options) {
    return list(options.user === undefined ? null : options.user).then(function (items) {
      var waiting = items.filter(function (item) {
        return item.state === "waiting";
      });
      var index = 0;
      function next() {
        if (index >= waiting.length) {
          return "done";
        }
        return send(waiting[index++].id, options).then(function (result) {
          if (options.onChange) {
            options.onChange();
          }
          return result === "retry" || result === "offline" ? result : next();
        });
      }
      return next();
    });
  }

  root.Plan02ReportQueue = { add: add, list: list, update: update, remove: remove, recover: recover, flush: flush };
})(self);

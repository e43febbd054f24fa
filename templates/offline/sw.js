/* Service worker of the offline inspection app (rendered by qa_app/offline/views.py; version {{ version }}).
 *
 * - Installs: caches the offline page, its styles, scripts, icons and the manifest.
 * - The offline page: network first (so a signed-in user always gets their own page), the cached copy when
 *   the network fails. A page answered by a redirect (signed out) is never cached.
 * - Static files of the shell: cache first.
 * - Signing in or out (a form posted to /login or /logout) drops the cached page, so the next person on a shared
 *   tablet never opens the previous user's page. The data itself stays in IndexedDB, keyed by user id.
 * - Everything else (the API, other pages) goes to the network untouched.
 */
"use strict";

var VERSION = {{ version|tojson }};
var CACHE = "qa-offline-shell-" + VERSION;
var SHELL = {{ shell|tojson }};
var ASSETS = {{ assets|tojson }}.concat([{{ manifest|tojson }}]);

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(ASSETS).then(function () {
      return fetch(SHELL, { credentials: "same-origin", redirect: "manual" }).then(function (response) {
        if (response.ok && response.type === "basic") { return cache.put(SHELL, response); }
        return undefined;
      });
    });
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (key) {
      return key.indexOf("qa-offline-shell-") === 0 && key !== CACHE;
    }).map(function (key) { return caches.delete(key); }));
  }).then(function () { return self.clients.claim(); }));
});

function shellFromNetwork(request) {
  return fetch(request).then(function (response) {
    if (response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(SHELL, copy); });
    }
    return response;
  }).catch(function () {
    return caches.open(CACHE).then(function (cache) { return cache.match(SHELL); }).then(function (cached) {
      return cached || new Response("<!doctype html><meta charset=utf-8><title>Offline</title>" +
        "<p>Không có mạng và trang chưa được chuẩn bị trên máy này. / No network, and this page was not prepared " +
        "on this device.</p>", { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.method === "POST" && (url.pathname === "/login" || url.pathname === "/logout")) {
    event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.delete(SHELL); }));
    return;
  }
  if (request.method !== "GET") { return; }
  if (url.pathname === SHELL && request.mode === "navigate") {
    event.respondWith(shellFromNetwork(request));
    return;
  }
  if (ASSETS.indexOf(url.pathname) !== -1) {
    event.respondWith(caches.open(CACHE).then(function (cache) {
      return cache.match(url.pathname).then(function (cached) {
        return cached || fetch(request).then(function (response) {
          if (response.ok) { cache.put(url.pathname, response.clone()); }
          return response;
        });
      });
    }));
  }
});

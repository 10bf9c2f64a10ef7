/*! kbsuggest widget. KBSuggest.attach(input, {endpoint, kb, locale, product, mode: "form" | "chat"})
 * Server text is only set with textContent, never parsed as HTML. Network failures are swallowed:
 * without the service the page behaves as if the widget were not there. */
(function (global) {
  "use strict";
  var doc = global.document;
  var script = doc.currentScript;
  var DEFAULT_ENDPOINT = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  var SESSION_KEY = "kbsuggest.session";
  var CACHE_MAX = 100, BATCH_MAX = 50, BATCH_AT = 20, FLUSH_MS = 5000;
  var cache = new Map(); // one entry per (KB base URL, mode, filters, query): a repeated query costs nothing
  var queues = {};
  var seq = 0, memorySession = null;
  var CSS = ".kbs-list{list-style:none;margin:.25rem 0 0;padding:0;border:1px solid #ccd;border-radius:6px}" +
    ".kbs-list[hidden]{display:none}.kbs-opt{padding:.5rem .75rem;cursor:pointer;border-top:1px solid #eee}" +
    ".kbs-opt[aria-selected=true]{background:#eef4ff;outline:2px solid #36d;outline-offset:-2px}" +
    ".kbs-title{font-weight:600;color:#14b}.kbs-meta,.kbs-snippet,.kbs-head{display:block;font-size:.85em;color:#567}" +
    ".kbs-snippet{color:#333}.kbs-card{border:1px solid #ccd;border-radius:8px;padding:.5rem .75rem;margin:.35rem 0;background:#fff}" +
    ".kbs-actions{margin-top:.4rem;display:flex;gap:.5rem}.kbs-done{font-size:.85em;color:#174}";

  function noop() {}

  function el(tag, cls, text) {
    var node = doc.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = String(text);
    return node;
  }

  function norm(text) { return String(text || "").replace(/\s+/g, " ").trim(); }

  // Only http(s) links: a "javascript:..." url must never become clickable; no url: no link, not the page's.
  function safeUrl(url, anchor) {
    if (!url) return null;
    try {
      var u = new URL(String(url), location.href);
      if (u.protocol !== "http:" && u.protocol !== "https:") return null;
      if (anchor) u.hash = String(anchor);
      return u.href;
    } catch (e) { return null; }
  }

  function randomId() {
    return Array.prototype.map.call(crypto.getRandomValues(new Uint8Array(12)), function (b) {
      return (b + 256).toString(16).slice(1);
    }).join("");
  }

  // One random id per tab (sessionStorage): reading an article and coming back is one session.
  // No cookie, nothing that identifies a person.
  function sessionId() {
    try {
      var id = sessionStorage.getItem(SESSION_KEY);
      if (!id) { id = randomId(); sessionStorage.setItem(SESSION_KEY, id); }
      return id;
    } catch (e) { return memorySession || (memorySession = randomId()); }
  }

  function Queue(base) { this.url = base + "/events"; this.items = []; this.timer = 0; }
  Queue.prototype.push = function (event) {
    event.at = Date.now();
    this.items.push(event);
    var self = this;
    if (this.items.length >= BATCH_AT) this.flush(false);
    else if (!this.timer) this.timer = setTimeout(function () { self.flush(false); }, FLUSH_MS);
  };
  // text/plain keeps cross-origin posts "simple" (no preflight) and is what sendBeacon can send.
  Queue.prototype.flush = function (leaving) {
    clearTimeout(this.timer); this.timer = 0;
    while (this.items.length) {
      var body = JSON.stringify({ session_id: sessionId(), sent_at: Date.now(), events: this.items.splice(0, BATCH_MAX) });
      try {
        if (!(leaving && navigator.sendBeacon && navigator.sendBeacon(this.url, new Blob([body], { type: "text/plain" })))) {
          fetch(this.url, { method: "POST", body: body, keepalive: true, credentials: "omit",
            headers: { "Content-Type": "text/plain" } }).catch(noop);
        }
      } catch (e) { /* events are best effort */ }
    }
  };

  function queueFor(base) { return queues[base] || (queues[base] = new Queue(base)); }

  function flushAll() { for (var key in queues) queues[key].flush(true); }
  global.addEventListener("pagehide", flushAll);
  doc.addEventListener("visibilitychange", function () { if (doc.visibilityState === "hidden") flushAll(); });

  // Listen, and remember how to stop (destroy()).
  function on(s, target, type, fn, capture) {
    if (!target) return;
    target.addEventListener(type, fn, capture);
    s.offs.push(function () { target.removeEventListener(type, fn, capture); });
  }

  function injectStyles() {
    if (doc.getElementById("kbs-style")) return;
    var style = el("style", null, CSS);
    style.id = "kbs-style";
    (doc.head || doc.documentElement).insertBefore(style, (doc.head || doc.documentElement).firstChild);
  }

  function cancel(s) { s.pending.splice(0).forEach(function (c) { c.abort(); }); }

  // Fetch suggestions for a query; calls done(list), or done(null) when the service cannot answer.
  // A form's new query cancels the pending one; each chat message keeps its request.
  function lookup(s, query, done) {
    var key = [s.base, s.mode, s.locale, s.product, s.k, query].join("\u0000");
    if (cache.has(key)) { done(cache.get(key)); return; }
    if (s.mode !== "chat") cancel(s);
    var ctrl = typeof AbortController === "function" ? new AbortController() : { abort: noop };
    s.pending.push(ctrl);
    var current = function () { return s.pending.indexOf(ctrl) >= 0; };
    var finish = function () { s.pending.splice(s.pending.indexOf(ctrl), 1); };
    var request, url = s.base + "/suggest", init = { signal: ctrl.signal, credentials: "omit" };
    if (s.mode === "chat") { // a whole message: POST, up to 2,000 characters
      init.method = "POST";
      init.headers = { "Content-Type": "application/json" };
      init.body = JSON.stringify({ query: query, k: s.k, locale: s.locale || null, product: s.product || null, mode: s.mode });
    } else {
      var params = new URLSearchParams({ q: query, k: String(s.k), mode: s.mode });
      if (s.locale) params.set("locale", s.locale);
      if (s.product) params.set("product", s.product);
      url += "?" + params;
    }
    try { request = fetch(url, init); } catch (e) { finish(); done(null); return; }
    request.then(function (r) {
      if (!r.ok) throw new Error("kbsuggest: HTTP " + r.status);
      return r.json();
    }).then(function (data) {
      if (!current()) return; // a newer query replaced this one, or the widget was destroyed
      finish();
      var list = (data && Array.isArray(data.suggestions) ? data.suggestions : []).slice(0, s.k);
      if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value);
      cache.set(key, list);
      done(list);
    }).catch(function () {
      if (current()) { finish(); done(null); }
    });
  }

  function shownEvent(s, query, list) {
    s.queue.push({ type: "suggestions_shown", mode: s.mode, query: query.slice(0, 2000), suggestions: list.map(function (a, i) {
      return { article_id: String(a.article_id), position: i + 1, score: Math.max(-1, Math.min(1, Number(a.score) || 0)) };
    }) });
  }

  function articleEvent(s, type, query, a, i, helpful) {
    var event = { type: type, query: query, article_id: String(a.article_id), position: i + 1 };
    if (type === "feedback") event.helpful = helpful; else s.opened = true;
    s.queue.push(event);
  }

  // Title (a link when the url is http/https), section, score and snippet: all as text.
  function articleBody(node, a, onOpen) {
    var url = safeUrl(a.url, a.anchor), title;
    if (url) {
      title = el("a", "kbs-title", a.title);
      title.href = url; title.target = "_blank"; title.rel = "noopener"; title.tabIndex = -1;
      title.addEventListener("click", function (e) { e.stopPropagation(); onOpen(); });
    } else title = el("span", "kbs-title", a.title);
    var score = typeof a.score === "number" ? " · match " + a.score.toFixed(2) : "";
    node.appendChild(title);
    node.appendChild(el("span", "kbs-meta", (a.section || "Overview") + score));
    if (a.snippet) node.appendChild(el("span", "kbs-snippet", a.snippet));
    return title;
  }

  function attachForm(input, s, o) {
    var list = el("ul", "kbs-list"), items = [], active = -1, timer = 0, reported = "", current = "";
    list.id = s.id + "-list";
    list.hidden = true;
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", o.label || "Suggested articles");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("autocomplete", "off");
    if (o.container) o.container.appendChild(list);
    else input.parentNode.insertBefore(list, input.nextSibling);

    function setActive(i) {
      if (items[active]) items[active].node.setAttribute("aria-selected", "false");
      active = i;
      if (items[i]) {
        items[i].node.setAttribute("aria-selected", "true");
        input.setAttribute("aria-activedescendant", items[i].node.id);
        if (items[i].node.scrollIntoView) items[i].node.scrollIntoView({ block: "nearest" });
      } else input.removeAttribute("aria-activedescendant");
    }
    function show(on) { list.hidden = !on; input.setAttribute("aria-expanded", String(on)); }
    function close() { setActive(-1); show(false); }
    close();
    function opened(i, query) {
      articleEvent(s, "article_opened", query, items[i].article, i);
      if (o.onOpen) try { o.onOpen(items[i].article); } catch (e) { /* host callback */ }
    }
    function render(query, suggestions) {
      setActive(-1);
      list.textContent = "";
      items = suggestions.map(function (a, i) {
        var node = el("li", "kbs-opt"), item = { node: node, article: a };
        node.id = s.id + "-opt-" + i;
        node.setAttribute("role", "option");
        node.setAttribute("aria-selected", "false");
        item.link = articleBody(node, a, function () { opened(i, query); });
        node.addEventListener("mousedown", function (e) { e.preventDefault(); }); // keep focus in the input
        node.addEventListener("click", function () { if (item.link.href) item.link.click(); });
        list.appendChild(node);
        return item;
      });
      show(items.length > 0);
    }
    function run(query) {
      lookup(s, query, function (suggestions) {
        if (s.off || norm(input.value) !== query) return;
        if (suggestions === null) { close(); return; } // service down: the form simply has no suggestions
        render(query, suggestions);
        if (query !== reported) { reported = query; shownEvent(s, query, suggestions); }
      });
    }
    function onInput() {
      clearTimeout(timer);
      var query = norm(input.value);
      if (query === current) return;
      current = query;
      if (query.length < s.minChars) {
        cancel(s);
        close();
        return;
      }
      timer = setTimeout(function () { run(query); }, s.debounce);
    }
    function onKey(e) {
      if (!items.length) return;
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        show(true);
        var n = items.length;
        setActive(e.key === "ArrowDown" ? (active + 1) % n : (active <= 0 ? n - 1 : active - 1));
      } else if (e.key === "Enter" && active >= 0 && !list.hidden) {
        e.preventDefault(); // open the article instead of submitting the form
        if (items[active].link.href) items[active].link.click();
        else opened(active, current);
      } else if (e.key === "Escape" && !list.hidden) {
        e.preventDefault();
        close();
      }
    }
    on(s, input, "input", onInput);
    on(s, input, "keydown", onKey);
    on(s, input.form, "submit", function () { s.submitted(input.value); }, true);
    on(s, input.form, "reset", function () { current = ""; close(); });
    s.offs.push(function () { clearTimeout(timer); list.remove(); });
  }

  function attachChat(input, s, o) {
    var box = o.container;
    if (!box) { box = el("div"); input.parentNode.insertBefore(box, input.nextSibling); }
    box.setAttribute("aria-live", "polite");

    function card(a, i, query) {
      var node = el("article", "kbs-card"), actions = el("div", "kbs-actions");
      articleBody(node, a, function () { articleEvent(s, "article_opened", query, a, i); });
      [["This solved it", true], ["I still need help", false]].forEach(function (choice) {
        var button = el("button", null, choice[0]);
        button.type = "button";
        button.addEventListener("click", function () {
          articleEvent(s, "feedback", query, a, i, choice[1]);
          s.queue.flush(false);
          actions.replaceWith(el("div", "kbs-done", choice[1] ? "Glad it helped!" : "Thanks. An agent will follow up."));
          if (o.onFeedback) try { o.onFeedback(a, choice[1]); } catch (e) { /* host callback */ }
        });
        actions.appendChild(button);
      });
      node.appendChild(actions);
      return node;
    }
    function ask(text) {
      var query = norm(text);
      if (s.off || query.length < s.minChars) return;
      lookup(s, query, function (suggestions) {
        if (s.off || suggestions === null) return;
        shownEvent(s, query, suggestions);
        if (!suggestions.length) return;
        var group = el("div", "kbs-group");
        group.appendChild(el("div", "kbs-head", o.heading || "These articles may answer your question:"));
        suggestions.forEach(function (a, i) { group.appendChild(card(a, i, query)); });
        box.appendChild(group);
        if (box.scrollTo) box.scrollTo(0, box.scrollHeight);
      });
    }
    // Capture phase: read the message before the host's submit handler clears the input.
    on(s, input.form, "submit", function () { ask(input.value); }, true);
    on(s, input, "keydown", function (e) { if (e.key === "Enter" && !e.shiftKey && !input.form) ask(input.value); });
    s.ask = ask;
  }

  function attach(input, options) {
    if (typeof input === "string") input = doc.querySelector(input);
    if (!input || !input.addEventListener) throw new Error("KBSuggest.attach: pass an input or textarea element");
    var o = options || {};
    var endpoint = String(o.endpoint || DEFAULT_ENDPOINT).replace(/\/+$/, "");
    var base = endpoint + (o.kb ? "/v1/kbs/" + encodeURIComponent(o.kb) : "/v1"); // one KB of many
    var s = {
      id: "kbs" + (++seq), base: base, mode: o.mode === "chat" ? "chat" : "form",
      locale: o.locale || "", product: o.product || "", k: Math.min(Math.max(o.k || 3, 1), 10),
      debounce: o.debounce == null ? 250 : o.debounce, minChars: o.minChars || 3,
      queue: queueFor(base), opened: false, off: false, pending: [], offs: [],
    };
    s.submitted = function (title) {
      s.queue.push({ type: "ticket_submitted", title: norm(title).slice(0, 2000), suggestion_opened: s.opened });
      s.queue.flush(true); // the page is probably navigating away
    };
    if (o.styles !== false) injectStyles();
    if (s.mode === "chat") attachChat(input, s, o); else attachForm(input, s, o);
    return {
      ask: function (text) { if (s.ask) s.ask(text); },
      submitted: function (title) { s.submitted(title == null ? input.value : title); },
      flush: function () { s.queue.flush(false); },
      destroy: function () { s.off = true; cancel(s); s.offs.forEach(function (f) { f(); }); },
    };
  }

  global.KBSuggest = { attach: attach };
})(window);

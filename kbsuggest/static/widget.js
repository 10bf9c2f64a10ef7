/*! kbsuggest widget: KBSuggest.attach(input, options). Server text goes in textContent and <mark> nodes,
 * never parsed as HTML. Network failures are swallowed: without the service, no widget. */
(function (global) {
"use strict";
var doc = global.document, script = doc.currentScript, SESSION_KEY = "kbsuggest.session";
var DEFAULT_ENDPOINT = script && script.src ? new URL(script.src, location.href).origin : location.origin;
var CACHE_MAX = 100, BATCH_MAX = 50, BATCH_AT = 20, FLUSH_MS = 5000, LOADING_MS = 300;
var cache = new Map(), queues = {}, seq = 0, memorySession = null;
// Built-in strings, in KEYS order.
var KEYS = "label heading popular loading empty found solved still glad agent open back match".split(" ");
var I18N = {
  en: "Suggested articles|These articles may answer your question:|Popular articles|Searching…|No matching articles — you can still submit|Articles found: {n}|This solved it|I still need help|Glad it helped!|Thanks. An agent will follow up.|Open full article|Back|match",
  de: "Vorgeschlagene Artikel|Diese Artikel beantworten vielleicht Ihre Frage:|Beliebte Artikel|Suche…|Keine passenden Artikel — Sie können trotzdem absenden|Gefundene Artikel: {n}|Das hat geholfen|Ich brauche noch Hilfe|Schön, dass es geholfen hat!|Danke. Ein Mitarbeiter meldet sich.|Ganzen Artikel öffnen|Zurück|Treffer",
  fr: "Articles suggérés|Ces articles peuvent répondre à votre question :|Articles populaires|Recherche…|Aucun article correspondant — vous pouvez tout de même envoyer|Articles trouvés : {n}|Cela m’a aidé|J’ai encore besoin d’aide|Ravi d’avoir aidé !|Merci. Un agent va vous répondre.|Ouvrir l’article complet|Retour|pertinence",
  es: "Artículos sugeridos|Estos artículos pueden responder a tu pregunta:|Artículos populares|Buscando…|No hay artículos que coincidan — aún puedes enviar|Artículos encontrados: {n}|Esto lo resolvió|Todavía necesito ayuda|¡Nos alegra haber ayudado!|Gracias. Un agente te responderá.|Abrir el artículo completo|Volver|coincidencia"
};
// Theme: --kbs-* properties. Boxes set their own colours: readable on dark hosts.
var V = "{--b:var(--kbs-bg,#fff);--f:var(--kbs-fg,#1f2328);--m:var(--kbs-muted,#57606a);--a:var(--kbs-accent,#0a58ca);--l:var(--kbs-border,#d0d7de);--h:var(--kbs-mark,#fff0a0);--s:var(--kbs-selected,#eef4ff)}";
var DARK = "{--b:var(--kbs-bg,#161b22);--f:var(--kbs-fg,#e6edf3);--m:var(--kbs-muted,#9da7b3);--a:var(--kbs-accent,#79b8ff);--l:var(--kbs-border,#3d444d);--h:var(--kbs-mark,#4d3f00);--s:var(--kbs-selected,#1f2d3d)}";
var BOX = ".kbs-list,.kbs-box,.kbs-card,.kbs-group", R = "border-radius:var(--kbs-radius,6px);";
var CSS = BOX + V + "@media(prefers-color-scheme:dark){" + BOX + DARK + "}" + BOX +
  "{background:var(--b);color:var(--f);font-family:var(--kbs-font,inherit);" + R + "margin:.3rem 0;padding:.5rem .75rem}" +
  ".kbs-list,.kbs-box,.kbs-card{border:1px solid var(--l)}.kbs-list{list-style:none;padding:0}" +
  ".kbs-opt{min-height:44px;padding:.5rem .75rem;cursor:pointer}.kbs-opt+.kbs-opt{border-top:1px solid var(--l)}" +
  ".kbs-opt[aria-selected=true]{background:var(--s);outline:2px solid var(--a);outline-offset:-2px}" +
  ".kbs-title{font-weight:600;color:var(--a)}.kbs-meta,.kbs-snippet,.kbs-head{display:block;font-size:.85em;color:var(--m)}" +
  ".kbs-snippet{color:var(--f)}.kbs-mark{background:var(--h);color:inherit}.kbs-card a{display:inline-block;padding:.7rem 0}" +
  ".kbs-actions{display:flex;flex-wrap:wrap;gap:.5rem}.kbs-actions>*{min-height:44px;font:inherit;padding:.6rem .8rem;" +
  "border:1px solid var(--l);" + R + "background:var(--b);color:var(--a)}" +
  ".kbs-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}";

function el(tag, cls, text, attrs) {
  var node = doc.createElement(tag);
  if (cls) node.className = cls;
  if (text != null) node.textContent = String(text);
  return set(node, attrs);
}

function set(node, attrs) { for (var k in attrs) node.setAttribute(k, attrs[k]); return node; }

function norm(text) { return String(text || "").replace(/\s+/g, " ").trim(); }

function call(fn, a, b) { if (fn) try { fn(a, b); } catch (e) { /* host callback */ } }

// Page locale (de-DE), its language (de), the KB's answer's, en.
function strings(s) {
  var t = {}, ui = s.ui.replace("_", "-"), chain = [ui, ui.split("-")[0], s.served, "en"], i, found;
  for (i = 0; i < chain.length && !found; i++) found = I18N[chain[i].toLowerCase()];
  found.split("|").forEach(function (v, j) { t[KEYS[j]] = v; });
  for (i in s.o.strings || {}) t[i] = String(s.o.strings[i]);
  s.t = t;
}

// [start, end) code-point spans as <mark> nodes.
function marked(node, text, spans) {
  var cp = Array.from(String(text || "")), at = 0;
  function put(a, b, tag) { var t = cp.slice(a, b).join(""); if (t) node.appendChild(tag ? el(tag, "kbs-mark", t) : doc.createTextNode(t)); }
  (Array.isArray(spans) ? spans : []).forEach(function (sp) {
    var a = +sp[0], b = +sp[1];
    if (a >= at && b > a && b <= cp.length) { put(at, a); put(a, b, "mark"); at = b; }
  });
  put(at, cp.length);
  return node;
}

// http(s) links only; no url: no link.
function safeUrl(url, anchor) {
  if (!url) return null;
  try {
    var u = new URL(String(url), location.href);
    if (u.protocol !== "http:" && u.protocol !== "https:") return null;
    if (anchor) u.hash = String(anchor);
    return u.href;
  } catch (e) { return null; }
}

function randomId() { return [].map.call(crypto.getRandomValues(new Uint8Array(12)), function (b) { return (b + 256).toString(16).slice(1); }).join(""); }

// One random id per tab (sessionStorage), no cookie.
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
  if (this.items.length >= BATCH_AT) this.flush();
  else if (!this.timer) this.timer = setTimeout(this.flush.bind(this), FLUSH_MS);
};
// text/plain: no CORS preflight, as sendBeacon sends.
Queue.prototype.flush = function (leaving) {
  clearTimeout(this.timer); this.timer = 0;
  while (this.items.length) {
    var body = JSON.stringify({ session_id: sessionId(), sent_at: Date.now(), events: this.items.splice(0, BATCH_MAX) });
    try {
      if (!(leaving && navigator.sendBeacon && navigator.sendBeacon(this.url, new Blob([body], { type: "text/plain" })))) {
        fetch(this.url, { method: "POST", body: body, keepalive: true, credentials: "omit",
          headers: { "Content-Type": "text/plain" } }).catch(function () {});
      }
    } catch (e) { /* best effort */ }
  }
};

function flushAll() { for (var key in queues) queues[key].flush(true); }
global.addEventListener("pagehide", flushAll);
doc.addEventListener("visibilitychange", function () { if (doc.visibilityState === "hidden") flushAll(); });

function on(s, target, type, fn, capture) {
  if (!target) return;
  target.addEventListener(type, fn, capture);
  s.offs.push(function () { target.removeEventListener(type, fn, capture); });
}

function injectStyles() {
  var head = doc.head || doc.documentElement;
  if (!doc.getElementById("kbs-style")) head.insertBefore(el("style", null, CSS, { id: "kbs-style" }), head.firstChild);
}

function cancel(s) { s.pending.splice(0).forEach(function (c) { c.abort(); }); }

function getJSON(url, init, done) {
  init.credentials = "omit";
  try {
    fetch(url, init).then(function (r) { if (r.ok) return r.json(); throw 0; })
      .then(done, function (e) { if (!e || e.name !== "AbortError") done(null); });
  } catch (e) { done(null); }
}

// Form: a new query cancels the last. Chat: each message keeps its own.
function lookup(s, query, done) {
  var key = [s.base, s.mode, s.locale, s.product, s.k, query].join("\u0000");
  if (cache.has(key)) { done(cache.get(key)); return; }
  if (s.mode !== "chat") cancel(s);
  var ctrl = new AbortController();
  s.pending.push(ctrl);
  var chat = s.mode === "chat", init = { signal: ctrl.signal }; // chat: a whole message, POST
  if (chat) init = { signal: ctrl.signal, method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ query: query, k: s.k, locale: s.locale || null, product: s.product || null, mode: "chat" }) };
  getJSON(s.base + "/suggest" + (chat ? "" : "?" + params(s, { q: query })), init, function (data) {
    var i = s.pending.indexOf(ctrl);
    if (i < 0) return; // replaced, or destroyed
    s.pending.splice(i, 1);
    if (!data) { done(null); return; }
    if (data.locale && data.locale !== s.served) { s.served = data.locale; strings(s); }
    var list = (Array.isArray(data.suggestions) ? data.suggestions : []).slice(0, s.k);
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value);
    cache.set(key, list);
    done(list);
  });
}

function params(s, extra) {
  var p = new URLSearchParams(extra);
  p.set("k", s.k);
  ["locale", "product"].forEach(function (k) { if (s[k]) p.set(k, s[k]); });
  return p;
}

function shownEvent(s, query, list) {
  s.queue.push({ type: "suggestions_shown", mode: s.mode, query: query, locale: s.locale || null,
    product: s.product || null, suggestions: list.map(function (a, i) {
    return { article_id: String(a.article_id), position: i + 1, score: Math.max(-1, Math.min(1, Number(a.score) || 0)) };
  }) });
  if (!list.length) call(s.o.onNoMatch, query);
}

function articleEvent(s, type, query, a, i, helpful) {
  var event = { type: type, query: query, article_id: String(a.article_id), position: i + 1 };
  if (helpful == null) { s.opened = true; s.queue.push(event); call(s.o.onOpen, a); return; }
  event.helpful = helpful;
  s.queue.push(event);
  s.queue.flush();
  call(s.o.onFeedback, a, helpful);
}

// A thank-you replaces the buttons and takes the focus (never lost).
function feedback(s, box, choices, query, a, i) {
  var buttons = choices.map(function (helpful) {
    return button(box, helpful ? s.t.solved : s.t.still, function () {
      buttons.forEach(function (b) { b.remove(); });
      box.appendChild(el("div", "kbs-done", helpful ? s.t.glad : s.t.agent, { tabindex: "-1" })).focus();
      articleEvent(s, "feedback", query, a, i, helpful);
    });
  });
}

function button(box, text, fn) {
  var b = box.appendChild(el("button", null, text, { type: "button" }));
  b.addEventListener("click", fn);
  return b;
}

// Chat: a title links to the article (Tab reaches it). Form: opens the preview.
function articleBody(s, node, a, onOpen) {
  var url = onOpen && safeUrl(a.url, a.anchor), title = marked(el(url ? "a" : "span", "kbs-title"), a.title, a.title_spans);
  if (url) set(title, { href: url, target: "_blank", rel: "noopener" }).addEventListener("click", onOpen);
  node.appendChild(title);
  var meta = a.section || "";
  if (s.o.showScores && typeof a.score === "number") meta += " · " + s.t.match + " " + a.score.toFixed(2);
  if (meta) node.appendChild(el("span", "kbs-meta", meta));
  if (a.snippet) node.appendChild(marked(el("span", "kbs-snippet"), a.snippet, a.snippet_spans));
}

function attachForm(input, s, o) {
  var list = el("ul", "kbs-list", null, { id: s.id + "-list", role: "listbox" }), status = el("div", "kbs-box");
  var preview = el("div", "kbs-box", null, { role: "region" }), live = el("div", "kbs-sr", null, { role: "status" });
  var items = [], active = -1, timer = 0, slow = 0, reported = "", current = "", popular = null, after = input, pressed;
  set(input, { role: "combobox", "aria-autocomplete": "list", "aria-controls": list.id, autocomplete: "off" });
  [list, status, preview, live].forEach(function (node) {
    if (o.container) o.container.appendChild(node);
    else after = after.parentNode.insertBefore(node, after.nextSibling);
  });

  function setActive(i) {
    if (items[active]) items[active].node.setAttribute("aria-selected", "false");
    active = i;
    if (items[i]) {
      items[i].node.setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", items[i].node.id);
      items[i].node.scrollIntoView({ block: "nearest" });
    } else input.removeAttribute("aria-activedescendant");
  }
  function show(on) { list.hidden = !on; input.setAttribute("aria-expanded", on); }
  function note(text) { status.textContent = text || ""; status.hidden = !text; }
  function close() { clearTimeout(slow); setActive(-1); show(false); note(""); preview.hidden = true; }
  close();
  function open(i, query) {
    var a = items[i].article, url = safeUrl(a.url, a.anchor);
    articleEvent(s, "article_opened", query, a, i);
    // The section, in the form; failing that, the article page.
    getJSON(s.base + "/articles/" + encodeURIComponent(a.article_id) + "?section=" + encodeURIComponent(a.anchor || ""),
      {}, function (data) {
        if (s.off) return;
        if (!data) { if (url) global.open(url, "_blank", "noopener"); return; }
        showPreview(a, data, i, query);
      });
  }
  function showPreview(a, data, i, query) {
    var actions = el("div", "kbs-actions"), url = safeUrl(data.url, data.anchor);
    preview.textContent = "";
    set(preview, { "aria-label": data.title }).appendChild(el("div", "kbs-title", data.title));
    if (data.section) preview.appendChild(el("span", "kbs-meta", data.section));
    preview.appendChild(el("p", "kbs-text", data.text));
    if (url) actions.appendChild(el("a", null, s.t.open, { href: url, target: "_blank", rel: "noopener" }));
    feedback(s, actions, [true], query, a, i);
    button(actions, s.t.back, function () { preview.hidden = true; show(items.length > 0); input.focus(); });
    preview.appendChild(actions);
    close();
    preview.hidden = false;
  }
  function render(query, suggestions, heading) {
    clearTimeout(slow);
    setActive(-1);
    list.textContent = "";
    preview.hidden = true;
    list.setAttribute("aria-label", heading || s.t.label);
    items = suggestions.map(function (a, i) {
      var node = el("li", "kbs-opt", null, { id: s.id + "-opt-" + i, role: "option", "aria-selected": "false" });
      articleBody(s, node, a);
      node.addEventListener("mousedown", function (e) { e.preventDefault(); }); // focus stays in the input
      node.addEventListener("click", function () { open(i, query); });
      list.appendChild(node);
      return { node: node, article: a };
    });
    show(items.length > 0);
    note(heading && items.length ? heading : items.length ? "" : s.t.empty);
    if (!heading) live.textContent = items.length ? s.t.found.replace("{n}", items.length) : s.t.empty;
  }
  function run(query) {
    clearTimeout(slow);
    slow = setTimeout(function () { note(s.t.loading); }, LOADING_MS); // the old list stays
    lookup(s, query, function (suggestions) {
      if (s.off || norm(input.value) !== query) return;
      if (suggestions === null) { close(); return; } // service down
      render(query, suggestions);
      if (query !== reported) { reported = query; shownEvent(s, query, suggestions); }
    });
  }
  // Zero state: popular articles while the field is focused, empty.
  function zero() {
    if (norm(input.value) || doc.activeElement !== input) return;
    if (popular) { if (popular.length) render("", popular, s.t.popular); return; }
    getJSON(s.base + "/popular?" + params(s, {}), {}, function (data) {
      popular = (data && Array.isArray(data.articles) ? data.articles : []).slice(0, 3);
      if (popular.length && !s.off) zero();
    });
  }
  function onInput() {
    clearTimeout(timer);
    var query = norm(input.value);
    if (query === current) return;
    current = query;
    if (query.length < s.minChars) { cancel(s); close(); zero(); return; }
    timer = setTimeout(function () { run(query); }, s.debounce);
  }
  function onKey(e) {
    if (e.key === "Escape" && !(list.hidden && preview.hidden && status.hidden)) { e.preventDefault(); close(); return; }
    if (e.key === "Tab" && !list.hidden) { close(); return; } // the focus moves on
    if (!items.length) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      show(true); preview.hidden = true;
      var n = items.length;
      setActive(e.key === "ArrowDown" ? (active + 1) % n : (active <= 0 ? n - 1 : active - 1));
    } else if (e.key === "Enter" && active >= 0 && !list.hidden) {
      e.preventDefault(); // preview, not submit
      open(active, current);
    }
  }
  // Closes on blur, Tab, a click elsewhere (not on press: layout must hold).
  function inside(node) { return node === input || list.contains(node) || preview.contains(node) || status.contains(node); }
  function onBlur() { setTimeout(function () { if (!pressed && !inside(doc.activeElement)) close(); }, 0); }
  on(s, input, "input", onInput);
  on(s, input, "focus", zero);
  on(s, input, "keydown", onKey);
  on(s, preview, "keydown", function (e) { if (e.key === "Escape") { close(); input.focus(); } });
  on(s, input, "blur", onBlur);
  on(s, preview, "focusout", onBlur);
  on(s, doc, "mousedown", function (e) { pressed = !inside(e.target); });
  on(s, doc, "mouseup", function () { if (pressed) setTimeout(function () { pressed = false; close(); }, 0); });
  on(s, input.form, "submit", function () { s.submitted(input.value); }, true);
  on(s, input.form, "reset", function () { current = ""; close(); });
  s.offs.push(function () { clearTimeout(timer); clearTimeout(slow); [list, status, preview, live].forEach(function (n) { n.remove(); }); });
}

function attachChat(input, s, o) {
  var box = o.container;
  if (!box) box = input.parentNode.insertBefore(el("div"), input.nextSibling);
  box.setAttribute("aria-live", "polite");

  function card(a, i, query) {
    var node = el("article", "kbs-card");
    articleBody(s, node, a, function () { articleEvent(s, "article_opened", query, a, i); });
    feedback(s, node.appendChild(el("div", "kbs-actions")), [true, false], query, a, i);
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
      group.appendChild(el("div", "kbs-head", s.t.heading));
      suggestions.forEach(function (a, i) { group.appendChild(card(a, i, query)); });
      box.appendChild(group);
      box.scrollTo(0, box.scrollHeight);
    });
  }
  // Capture: read it before the host clears it.
  on(s, input.form, "submit", function () { ask(input.value); }, true);
  on(s, input, "keydown", function (e) { if (e.key === "Enter" && !e.shiftKey && !input.form) ask(input.value); });
  s.ask = ask;
}

function attach(input, options) {
  if (typeof input === "string") input = doc.querySelector(input);
  if (!input || !input.addEventListener) throw new Error("KBSuggest.attach: pass an input or textarea");
  var o = options || {};
  var base = String(o.endpoint || DEFAULT_ENDPOINT).replace(/\/+$/, "") + (o.kb ? "/v1/kbs/" + encodeURIComponent(o.kb) : "/v1"); // one KB of many
  var s = {
    id: "kbs" + (++seq), base: base, mode: o.mode === "chat" ? "chat" : "form", o: o,
    locale: o.locale || "", product: o.product || "", k: Math.min(Math.max(o.k || 3, 1), 10),
    ui: String(o.locale || doc.documentElement.lang || navigator.language || "en"), served: "",
    debounce: o.debounce == null ? 250 : o.debounce, minChars: o.minChars || 3,
    queue: queues[base] || (queues[base] = new Queue(base)), opened: false, off: false, pending: [], offs: [],
  };
  strings(s);
  s.submitted = function (title) {
    s.queue.push({ type: "ticket_submitted", title: norm(title).slice(0, 2000), suggestion_opened: s.opened });
    s.queue.flush(true); // the page may be leaving
  };
  if (o.styles !== false) injectStyles();
  if (s.mode === "chat") attachChat(input, s, o); else attachForm(input, s, o);
  return {
    ask: function (text) { if (s.ask) s.ask(text); },
    submitted: function (title) { s.submitted(title == null ? input.value : title); },
    flush: function () { s.queue.flush(); },
    destroy: function () { s.off = true; cancel(s); s.offs.forEach(function (f) { f(); }); },
  };
}

global.KBSuggest = { attach: attach };
})(window);

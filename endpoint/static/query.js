// The query UI: YASGUI served from our own static files, pointed at our own /sparql, with every
// example query as a tab named by its title (and a picker listing them by group). The
// autocompleters that call third parties (prefix.cc, LOV) are switched off.
//
// - Share: the share button's link is /query#query=…&endpoint=…; opening it adds a "Shared
//   query" tab holding exactly that text and endpoint (the fragment never reaches a server).
// - Edits: each tab's text is kept in localStorage under its example's name and restored on
//   reload, unless the example itself has changed since.
// - Results: our Table, Chart and Map views (query-views.js) replace YASR's table.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("kg-tabs").textContent);
  window.kgConfig = config;
  var endpoint = new URL(config.endpoint, window.location.href).href;
  var local = ["variables"];
  var KEY = "kg-query:";
  Yasgui.Yasqe.defaults.autocompleters = Yasgui.Yasqe.defaults.autocompleters.filter(function (n) {
    return local.indexOf(n) >= 0;
  });
  Yasgui.Yasr.registerPlugin("kgtable", window.kgViews.Table);
  Yasgui.Yasr.registerPlugin("kgchart", window.kgViews.Chart);
  Yasgui.Yasr.registerPlugin("kgmap", window.kgViews.Map);
  Yasgui.Yasr.defaults.pluginOrder = ["kgtable", "kgchart", "kgmap", "response"];
  Yasgui.Yasr.defaults.defaultPlugin = "kgtable";
  ["table", "boolean"].forEach(function (name) {
    if (name === "table" && Yasgui.Yasr.defaults.plugins[name]) {
      Yasgui.Yasr.defaults.plugins[name].enabled = false;
    }
  });
  Yasgui.defaults.requestConfig.endpoint = endpoint;

  function shared() {
    var params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    var query = params.get("query");
    if (!query) { return null; }
    var at = params.get("endpoint");
    return { query: query, endpoint: at ? new URL(at, window.location.href).href : endpoint };
  }
  function kept(name, original) {
    try {
      var saved = JSON.parse(window.localStorage.getItem(KEY + name) || "null");
      return saved && saved.original === original ? saved.text : null;
    } catch (e) { return null; }
  }
  function keep(name, original, text) {
    try {
      if (text === original) { window.localStorage.removeItem(KEY + name); }
      else { window.localStorage.setItem(KEY + name, JSON.stringify({ original: original, text: text })); }
    } catch (e) { /* storage full or refused: edits are simply not kept */ }
  }

  var yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: endpoint, method: "POST" },
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } },
    copyEndpointOnNewTab: true,
    persistenceId: null,
    populateFromUrl: false,
    autoAddOnInit: false,
    yasqe: { autocompleters: local },
  });
  var byId = {};  // tab id -> {name, original}
  function shareLink(tab) {
    var yasqe = tab.getYasqe();
    var text = yasqe ? yasqe.getValue() : tab.getQuery();
    var at = tab.getEndpoint ? tab.getEndpoint() : endpoint;
    return window.location.origin + window.location.pathname + "#" + new URLSearchParams(
      { query: text, endpoint: at || endpoint }).toString();
  }
  function add(active, name, title, text, original, at) {
    var tab = yasgui.addTab(active, {
      name: title,
      yasqe: { value: text },
      requestConfig: { endpoint: at || endpoint, method: "POST" },
    });
    tab.getShareableLink = function () { return shareLink(tab); };
    byId[tab.getId()] = { name: name, original: original };
    return tab;
  }

  var link = shared();
  var selected = null;
  config.tabs.forEach(function (t, i) {
    var active = !link && (config.selected ? t.name === config.selected : i === 0);
    var text = kept(t.name, t.query);
    var title = t.title + (t.needs ? " (" + t.needs + ")" : "");
    var tab = add(active, t.name, title, text === null ? t.query : text, t.query);
    if (active) { selected = tab; }
  });
  if (link) { selected = add(true, null, "Shared query", link.query, null, link.endpoint); }
  if (!config.tabs.length && !link) { selected = add(true, null, "Query", "", null); }
  if (selected) { yasgui.selectTabId(selected.getId()); }
  window.kgYasgui = yasgui;

  function save() {
    Object.keys(byId).forEach(function (id) {
      var info = byId[id], tab = yasgui.getTab(id);
      var yasqe = tab && tab.getYasqe();
      if (info.name && yasqe) { keep(info.name, info.original, yasqe.getValue()); }
    });
  }
  window.addEventListener("pagehide", save);
  yasgui.on("query", save);
  yasgui.on("tabChange", save);
  document.getElementById("yasgui").addEventListener("keyup", save);

  var picker = document.getElementById("kg-example");
  if (picker) {
    picker.addEventListener("change", function () {
      var id = Object.keys(byId).filter(function (k) { return byId[k].name === picker.value; })[0];
      if (id) { yasgui.selectTabId(id); }
    });
  }
})();

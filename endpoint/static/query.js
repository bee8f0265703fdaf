// The query UI: YASGUI served from our own static files, pointed at our own /sparql only,
// with every example query as a ready tab. The autocompleters that call third parties
// (prefix.cc for prefixes, LOV for classes and properties) are switched off; only the local
// variable completer stays.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("kg-tabs").textContent);
  var endpoint = new URL(config.endpoint, window.location.href).href;
  var local = ["variables"];
  Yasgui.Yasqe.defaults.autocompleters = Yasgui.Yasqe.defaults.autocompleters.filter(function (n) {
    return local.indexOf(n) >= 0;
  });
  Yasgui.defaults.requestConfig.endpoint = endpoint;
  var yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: endpoint, method: "POST" },
    endpointCatalogueOptions: {
      getData: function () { return [{ endpoint: endpoint }]; },
    },
    copyEndpointOnNewTab: true,
    persistenceId: null,
    populateFromUrl: false,
    autoAddOnInit: false,
    yasqe: { autocompleters: local },
  });
  var selected = null;
  config.tabs.forEach(function (t, i) {
    var active = config.selected ? t.name === config.selected : i === 0;
    var tab = yasgui.addTab(active, {
      name: t.name,  // short: the title is the first line of the query itself
      yasqe: { value: t.query },
      requestConfig: { endpoint: endpoint, method: "POST" },
    });
    if (active) { selected = tab; }
  });
  if (!config.tabs.length) {
    yasgui.addTab(true, { requestConfig: { endpoint: endpoint, method: "POST" } });
  }
  if (selected) { yasgui.selectTabId(selected.getId()); }
  window.kgYasgui = yasgui;

  // Our IRIs in the results open on this host: {base}id/x -> /id/x (which 303s to the page),
  // the same mapping of the base IRI onto the serving host as everywhere else on the site.
  var base = config.base_iri;
  var root = new URL(config.root || "/", window.location.href).href;
  function localise(el) {
    el.querySelectorAll("a[href]").forEach(function (a) {
      var href = a.getAttribute("href");
      if (base && href.indexOf(base) === 0) {
        a.setAttribute("href", root + href.slice(base.length));
        a.removeAttribute("target");
      }
    });
  }
  var results = document.getElementById("yasgui");
  new MutationObserver(function () { localise(results); })
    .observe(results, { childList: true, subtree: true });
})();

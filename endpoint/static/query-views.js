// Three result views for YASR, our own code (no chart or map library, nothing from elsewhere):
// - "Table": IRIs as prefixed names (the query's own PREFIXes first, then our namespaces), our
//   IRIs opening on this host, literals as their value with a small datatype/language badge, in
//   a table that fits the page (long values wrap).
// - "Chart": bars, one per row, for the first numeric column, labelled by the other columns.
// - "Map": points (WKT POINT literals, or lat/long columns) over the offline basemap the server
//   draws (/pictures/basemap.svg), in the same projection: equirectangular, longitude scaled by
//   the cosine of the middle latitude (endpoint/pages/basemap.py).
(function () {
  "use strict";
  var XSD = "http://www.w3.org/2001/XMLSchema#";
  var NUMERIC = ["integer", "decimal", "double", "float", "int", "long", "short",
    "nonNegativeInteger", "positiveInteger", "unsignedInt"].map(function (t) { return XSD + t; });
  var WKT = "http://www.opengis.net/ont/geosparql#wktLiteral";

  function config() { return window.kgConfig || { prefixes: {} }; }

  function prefixesOf(yasr) {
    var own = yasr.getPrefixes ? yasr.getPrefixes() || {} : {};
    var all = {};
    Object.keys(config().prefixes).forEach(function (p) { all[p] = config().prefixes[p]; });
    Object.keys(own).forEach(function (p) { all[p] = own[p]; });
    return all;
  }

  function shorten(iri, prefixes) {
    var best = null;
    Object.keys(prefixes).forEach(function (p) {
      var ns = prefixes[p];
      if (ns && iri.indexOf(ns) === 0 && (!best || ns.length > prefixes[best].length)) {
        var local = iri.slice(ns.length);
        if (/^[\w.-]*$/.test(local)) { best = p; }
      }
    });
    return best === null ? null : best + ":" + iri.slice(prefixes[best].length);
  }

  function localHref(iri) {
    var base = config().base_iri;
    if (base && iri.indexOf(base) === 0) {
      return new URL(config().root || "/", window.location.href).href + iri.slice(base.length);
    }
    return iri;
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function cell(term, prefixes) {
    var td = el("td");
    if (!term) { return td; }
    if (term.type === "uri") {
      var a = el("a", "iri", shorten(term.value, prefixes) || term.value);
      a.href = localHref(term.value);
      a.title = term.value;
      td.appendChild(a);
    } else if (term.type === "bnode") {
      td.appendChild(el("span", "bnode", "_:" + term.value));
    } else {
      td.appendChild(el("span", "value", term.value));
      var badge = term["xml:lang"] ? "@" + term["xml:lang"]
        : term.datatype ? (shorten(term.datatype, prefixes) || term.datatype) : null;
      if (badge) {
        var b = el("span", term["xml:lang"] ? "badge lang" : "badge datatype", badge);
        b.title = term["xml:lang"] ? "language" : term.datatype;
        td.appendChild(b);
      }
    }
    return td;
  }

  function rows(yasr) { return yasr.results.getBindings() || []; }
  function vars(yasr) { return yasr.results.getVariables() || []; }
  function isSelect(yasr) {
    return !!(yasr.results && yasr.results.getVariables && yasr.results.getVariables() &&
      yasr.results.getVariables().length);
  }

  // ------------------------------------------------------------------------------- table
  function Table(yasr) { this.yasr = yasr; this.priority = 20; this.label = "Table"; }
  Table.prototype.canHandleResults = function () { return isSelect(this.yasr); };
  Table.prototype.getIcon = function () { return el("span", "kg-icon", "▦"); };
  Table.prototype.download = function (name) {
    var yasr = this.yasr;
    return { getData: function () { return yasr.results.asCsv(); }, contentType: "text/csv",
      title: "Download result", filename: (name || "queryResults") + ".csv" };
  };
  Table.prototype.draw = function () {
    var prefixes = prefixesOf(this.yasr);
    var table = el("table", "dataTable kg-table");
    var head = el("tr");
    vars(this.yasr).forEach(function (v) { head.appendChild(el("th", "", "?" + v)); });
    table.appendChild(el("thead")).appendChild(head);
    var body = table.appendChild(el("tbody"));
    var names = vars(this.yasr);
    rows(this.yasr).forEach(function (row) {
      var tr = body.appendChild(el("tr"));
      names.forEach(function (v) { tr.appendChild(cell(row[v], prefixes)); });
    });
    this.yasr.resultsEl.appendChild(table);
  };

  // ------------------------------------------------------------------------------- chart
  function isNumber(term) {
    return term && term.type !== "uri" && term.type !== "bnode" &&
      (NUMERIC.indexOf(term.datatype) >= 0) && isFinite(parseFloat(term.value));
  }
  function chartData(yasr) {
    var names = vars(yasr), data = rows(yasr);
    var valueVar = names.filter(function (v) {
      return data.length && data.every(function (r) { return !r[v] || isNumber(r[v]); }) &&
        data.some(function (r) { return isNumber(r[v]); });
    })[0];
    if (!valueVar) { return null; }
    var prefixes = prefixesOf(yasr);
    var labelVars = names.filter(function (v) { return v !== valueVar && !/^(min|max)/i.test(v); });
    return data.filter(function (r) { return isNumber(r[valueVar]); }).map(function (r) {
      var label = labelVars.map(function (v) {
        var t = r[v];
        if (!t || isNumber(t)) { return null; }
        return t.type === "uri" ? (shorten(t.value, prefixes) || t.value) : t.value;
      }).filter(Boolean).join(" · ");
      return { label: label || "(no label)", value: parseFloat(r[valueVar].value), name: valueVar };
    });
  }
  function Chart(yasr) { this.yasr = yasr; this.priority = 5; this.label = "Chart"; }
  Chart.prototype.canHandleResults = function () {
    return isSelect(this.yasr) && !!chartData(this.yasr) && chartData(this.yasr).length > 0;
  };
  Chart.prototype.getIcon = function () { return el("span", "kg-icon", "▮"); };
  Chart.prototype.draw = function () {
    var data = chartData(this.yasr);
    var top = Math.max.apply(null, data.map(function (d) { return d.value; }).concat([1]));
    var box = el("div", "kg-chart");
    box.appendChild(el("p", "kg-chart-caption", "?" + data[0].name + " by row (bar length to scale, 0 to " +
      top.toLocaleString("en") + ")"));
    data.forEach(function (d) {
      var row = box.appendChild(el("div", "kg-bar-row"));
      row.appendChild(el("span", "kg-bar-label", d.label));
      var track = row.appendChild(el("span", "kg-bar-track"));
      var bar = track.appendChild(el("span", "kg-bar"));
      bar.style.width = (Math.max(0, d.value) / top * 100).toFixed(2) + "%";
      track.appendChild(el("span", "kg-bar-value", d.value.toLocaleString("en")));
    });
    this.yasr.resultsEl.appendChild(box);
  };

  // --------------------------------------------------------------------------------- map
  function pointsOf(yasr) {
    var names = vars(yasr), data = rows(yasr), out = [];
    var latVar = names.filter(function (v) { return /^lat(itude)?$/i.test(v); })[0];
    var longVar = names.filter(function (v) { return /^(long|lon|lng|longitude)$/i.test(v); })[0];
    var prefixes = prefixesOf(yasr);
    data.forEach(function (r) {
      var lat = null, lon = null;
      names.forEach(function (v) {
        var t = r[v];
        var m = t && t.type !== "uri" && /POINT\s*\(\s*(-?[\d.]+)\s+(-?[\d.]+)\s*\)/i.exec(t.value);
        if (m && (t.datatype === WKT || /^\s*(<[^>]*>\s*)?POINT/i.test(t.value)) && lat === null) {
          lon = parseFloat(m[1]); lat = parseFloat(m[2]);
        }
      });
      if (lat === null && latVar && longVar && r[latVar] && r[longVar]) {
        lat = parseFloat(r[latVar].value); lon = parseFloat(r[longVar].value);
      }
      if (lat === null || !isFinite(lat) || !isFinite(lon)) { return; }
      var usable = names.map(function (v) { return r[v]; }).filter(function (t, i) {
        return t && names[i] !== latVar && names[i] !== longVar && !/POINT/i.test(t.value);
      });
      var literal = usable.filter(function (t) { return t.type === "literal" || t["xml:lang"]; })[0];
      var iri = usable.filter(function (t) { return t.type === "uri"; })[0];
      var label = literal ? literal.value : iri ? (shorten(iri.value, prefixes) || iri.value) : "";
      out.push({ lat: lat, lon: lon, label: label });
    });
    return out;
  }
  function MapView(yasr) { this.yasr = yasr; this.priority = 4; this.label = "Map"; }
  MapView.prototype.canHandleResults = function () {
    return isSelect(this.yasr) && pointsOf(this.yasr).length > 0;
  };
  MapView.prototype.getIcon = function () { return el("span", "kg-icon", "◉"); };
  MapView.prototype.draw = function () {
    var pts = pointsOf(this.yasr), width = 760, pad = 0.6, NS = "http://www.w3.org/2000/svg";
    var lats = pts.map(function (p) { return p.lat; }), lons = pts.map(function (p) { return p.lon; });
    var south = Math.min.apply(null, lats) - pad, north = Math.max.apply(null, lats) + pad;
    var west = Math.min.apply(null, lons) - pad, east = Math.max.apply(null, lons) + pad;
    var kx = Math.cos((south + north) / 2 * Math.PI / 180);
    var spanX = Math.max(east - west, 2), midX = (west + east) / 2;
    var spanY = Math.max(north - south, spanX * kx * 0.55), midY = (south + north) / 2;
    west = midX - spanX / 2; east = midX + spanX / 2; south = midY - spanY / 2; north = midY + spanY / 2;
    kx = Math.cos((south + north) / 2 * Math.PI / 180);
    var scale = width / ((east - west) * kx), height = (north - south) * scale;
    var svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 " + width + " " + height.toFixed(1));
    svg.setAttribute("class", "kg-map");
    svg.setAttribute("role", "img");
    var img = document.createElementNS(NS, "image");
    var q = "?west=" + west.toFixed(4) + "&south=" + south.toFixed(4) + "&east=" + east.toFixed(4) +
      "&north=" + north.toFixed(4) + "&width=" + width;
    img.setAttribute("href", config().basemap + q);
    img.setAttribute("width", width);
    img.setAttribute("height", height.toFixed(1));
    svg.appendChild(img);
    pts.forEach(function (p) {
      var x = (p.lon - west) * kx * scale, y = (north - p.lat) * scale;
      var c = document.createElementNS(NS, "circle");
      c.setAttribute("cx", x.toFixed(1)); c.setAttribute("cy", y.toFixed(1)); c.setAttribute("r", 5);
      c.setAttribute("class", "kg-point");
      var t = document.createElementNS(NS, "text");
      t.setAttribute("x", (x + 8).toFixed(1)); t.setAttribute("y", (y + 4).toFixed(1));
      t.textContent = p.label;
      svg.appendChild(c); svg.appendChild(t);
    });
    this.yasr.resultsEl.appendChild(svg);
  };

  window.kgViews = { Table: Table, Chart: Chart, Map: MapView };
})();

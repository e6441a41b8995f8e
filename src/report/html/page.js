// itlscope report: sorting and filtering of the verdict table, and each phone's details
// rendered from its JSON blob when its row is opened. No network, no library.
(function () {
  "use strict";
  var table = document.getElementById("verdicts");
  if (!table) return;
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.rows);
  var query = document.getElementById("q");
  var verdict = document.getElementById("v");
  var reason = document.getElementById("r");
  var shown = document.getElementById("shown");
  var lower = [];
  var CHUNK = 64;
  var chunks = {};
  var captureEl = document.getElementById("captures");
  var captures = captureEl ? JSON.parse(captureEl.textContent) : [];

  // The details of the phones of chunk k: base64 of gzipped JSON, inflated by the browser.
  function chunk(k) {
    if (!chunks[k]) {
      var src = document.getElementById("chunk-" + k);
      if (!src) return Promise.reject(new Error("no details stored for this phone"));
      if (typeof DecompressionStream === "undefined") {
        return Promise.reject(new Error("this browser cannot inflate the stored details (no DecompressionStream)"));
      }
      var bin = atob(src.textContent);
      var bytes = new Uint8Array(bin.length);
      for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
      chunks[k] = new Response(stream).text().then(JSON.parse);
    }
    return chunks[k];
  }

  function frameRef(frame, capture) {
    return captures.length && captures[capture] !== undefined ? captures[capture] + "#" + frame : "frame " + frame;
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  // ---- filtering ----
  function apply() {
    var q = query.value.trim().toLowerCase();
    var v = verdict.value;
    var r = reason ? reason.value : "";
    var n = 0;
    var m = model;
    for (var i = 0; i < rows.length; i++) {
      var row = rows[i];
      if (q && lower[i] === undefined) lower[i] = row.textContent.toLowerCase();
      var ok = (!v || row.cells[2].textContent === v) &&
        (!r || row.cells[3].getAttribute("data-code") === r) &&
        (!m || row.cells[5].getAttribute("data-model") === m) &&
        (!q || lower[i].indexOf(q) >= 0);
      row.hidden = !ok;
      if (row.detailRow) row.detailRow.hidden = !ok;
      if (ok) n++;
    }
    shown.textContent = n + " of " + rows.length + " phone(s) shown" +
      (m ? " (model " + m.replace(/\/$/, "").replace("/", " ") + ")" : "");
  }

  // The model filter has no control of its own: a summary count or `?model=` sets it, and
  // any change of the other filters clears it.
  var model = "";
  function clearModel() { model = ""; }

  // A summary count is a link to `?FILTER#phones`; applied in place, without reloading.
  var summary = document.getElementById("summary");
  if (summary) summary.addEventListener("click", function (ev) {
    var a = ev.target.closest ? ev.target.closest("a.filter") : null;
    if (!a) return;
    ev.preventDefault();
    var p = new URLSearchParams(a.getAttribute("href").split("#")[0].slice(1));
    query.value = "";
    verdict.value = p.get("verdict") || "";
    if (reason) reason.value = p.get("reason") || "";
    model = p.get("model") || "";
    apply();
    if (history.replaceState) history.replaceState(null, "", a.getAttribute("href"));
    var phones = document.getElementById("phones");
    if (phones) phones.scrollIntoView();
  });

  // ---- sorting ----
  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
  var heads = table.tHead.rows[0].cells;
  function sortBy(col) {
    var th = heads[col];
    var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
    for (var h = 0; h < heads.length; h++) heads[h].removeAttribute("aria-sort");
    th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
    var keyed = rows.map(function (row, i) {
      var c = row.cells[col];
      return { row: row, i: i, key: c.getAttribute("data-key") || c.textContent };
    });
    keyed.sort(function (a, b) { return dir * collator.compare(a.key, b.key) || a.i - b.i; });
    var frag = document.createDocumentFragment();
    var text = [];
    keyed.forEach(function (k) {
      frag.appendChild(k.row);
      if (k.row.detailRow) frag.appendChild(k.row.detailRow);
      text.push(lower[k.i]);
    });
    rows = keyed.map(function (k) { return k.row; });
    lower = text;
    tbody.appendChild(frag);
  }
  for (var h = 0; h < heads.length; h++) {
    heads[h].addEventListener("click", sortBy.bind(null, h));
    heads[h].title = "sort";
  }

  // ---- details ----
  function table2(cls, head, body) {
    var t = el("table", cls);
    var tr = el("tr");
    head.forEach(function (h) { tr.appendChild(el("th", null, h)); });
    t.appendChild(tr);
    body.forEach(function (cells) {
      var r = el("tr");
      cells.forEach(function (c) {
        var td = el("td", c[1] || null, c[0]);
        r.appendChild(td);
      });
      t.appendChild(r);
    });
    return t;
  }

  function ladder(d, text) {
    var box = el("div", "ladder");
    if (!d.e.length) {
      box.appendChild(el("p", null, "No trust-relevant events."));
      return box;
    }
    var n = d.l.length;
    box.style.setProperty("--n", String(n));
    var head = el("div", "row head");
    head.appendChild(el("div", "fr", "frame, time"));
    var names = el("div", "lanes");
    d.l.forEach(function (l) { names.appendChild(el("div", "lane", text(l))); });
    head.appendChild(names);
    box.appendChild(head);
    d.e.forEach(function (e) {
      // [lane (-1: no single server), from the phone, 0 normal / 1 failed / 2 expected,
      //  frame, capture, milliseconds since the first event, message]
      var row = el("div", "row message" + (e[2] === 1 ? " failed" : e[2] === 2 ? " expected" : ""));
      row.setAttribute("data-frame", e[3]);
      row.setAttribute("data-capture", e[4]);
      row.appendChild(el("div", "fr", frameRef(e[3], e[4]) + " +" + (e[5] / 1000).toFixed(3) + "s"));
      var lanes = el("div", "lanes");
      var m;
      if (e[0] > 0) {
        m = el("div", "arrow " + (e[1] ? "right" : "left"), text(e[6]));
        m.style.marginLeft = (50 / n) + "%";
        m.style.width = (100 * e[0] / n) + "%";
      } else {
        m = el("div", "note", text(e[6]));
        m.style.marginLeft = (50 / n) + "%";
      }
      lanes.appendChild(m);
      row.appendChild(lanes);
      box.appendChild(row);
    });
    return box;
  }

  var CONDITIONS = [
    "1. the phone's ITL differs from the served ITL",
    "2. the TVS certificate on the wire is not in that ITL",
    "3. the phone shows a verification failure",
    "4. no backup of the old TFTP key (CallManager.pem)"
  ];
  var STATUS = { pass: ["pass", "pass"], fail: ["FAIL", "fail"], unknown: ["unknown", "st-unknown"], "not-applicable": ["n/a", "st-na"] };

  function details(d) {
    var box = el("div", "detail-body");
    var ip = d.ip || "";
    function text(s) { return s === null || s === undefined ? "" : String(s); }
    var h = el("h3", null, d.n + (ip ? " (" + ip + ")" : "") + " ");
    h.appendChild(el("span", d.v, d.v));
    box.appendChild(h);
    if (d.o.length) box.appendChild(el("p", null, "also seen as " + d.o.join(", ")));
    box.appendChild(el("h3", null, "The four conditions (delete only when all four are yes)"));
    box.appendChild(table2("conditions", ["condition", "value", "why"], d.c.map(function (c, k) {
      var w = c[0] === true ? ["yes", "yes"] : c[0] === false ? ["no", "no"] : ["unknown", "unknown"];
      return [[CONDITIONS[k]], w, [text(c[1])]];
    })));
    if (d.r.length) {
      box.appendChild(el("h3", null, "Recovery paths (condition 4 as the note means it: delete only when all are closed)"));
      box.appendChild(table2("recovery", ["path", "state", "why"], d.r.map(function (r) {
        return [[r[0]], [r[1], r[1]], [text(r[2])]];
      })));
    }
    if (d.s.length) {
      box.appendChild(el("h3", null, "Next steps"));
      var ul = el("ul");
      d.s.forEach(function (s) {
        var li = el("li", null, text(s[1]));
        li.appendChild(el("br"));
        li.appendChild(el("small", null, "(" + s[0] + ") because " + text(s[2])));
        ul.appendChild(li);
      });
      box.appendChild(ul);
    }
    if (d.t) {
      box.appendChild(el("h3", null, "Trust path (installed ITL from " + text(d.t[0]) + ")"));
      box.appendChild(table2("trust-path", ["served file", "accepted", "how"], [
        [["ITL"], [d.t[1]], [text(d.t[2])]],
        [["config"], [d.t[3]], [text(d.t[4])]]
      ]));
    }
    if (d.f.length) {
      box.appendChild(el("h3", null, "Files"));
      box.appendChild(table2("files", ["file", "via", "server", "outcome"], d.f.map(function (f) {
        return [[text(f[0])], [f[1]], [text(f[2])], [text(f[3]), f[4] === 1 ? "fail" : f[4] === 2 ? "expected" : null]];
      })));
    }
    box.appendChild(el("h3", null, "The boot on the wire"));
    box.appendChild(ladder(d, text));
    box.appendChild(el("h3", null, "Checks"));
    box.appendChild(table2("checks", ["check", "status", "finding"], d.k.map(function (k) {
      var st = STATUS[k[1]] || [k[1], null];
      return [[k[0]], st, [text(k[2])]];
    })));
    if (d.x.length) {
      box.appendChild(el("h3", null, "Reported by --evidence files (phone clocks, not capture time)"));
      box.appendChild(table2("reported", ["source", "time", "what"], d.x.map(function (x) {
        return [[text(x[0])], [text(x[1])], [text(x[2])]];
      })));
    }
    return box;
  }

  function rowOf(i) {
    var a = document.getElementById("phone-" + i);
    return a ? a.parentNode.parentNode : null;
  }

  function toggle(i, open) {
    var row = rowOf(i);
    if (!row) return;
    if (row.detailRow) {
      if (open) { row.detailRow.hidden = row.hidden; return; }
      row.detailRow.parentNode.removeChild(row.detailRow);
      row.detailRow = null;
      return;
    }
    var tr = el("tr", "detail");
    var td = el("td", null, "opening…");
    td.colSpan = row.cells.length;
    var n = Number(i);
    chunk(Math.floor(n / CHUNK)).then(function (list) {
      td.textContent = "";
      td.appendChild(details(list[n % CHUNK]));
      tr.setAttribute("data-rendered", "yes");
      measure();
    }, function (err) {
      td.textContent = "The details cannot be shown: " + err.message;
    });
    tr.appendChild(td);
    tr.hidden = row.hidden;
    row.parentNode.insertBefore(tr, row.nextSibling);
    row.detailRow = tr;
  }

  tbody.addEventListener("click", function (ev) {
    var a = ev.target.closest ? ev.target.closest("a.phone") : null;
    if (!a) return;
    ev.preventDefault();
    toggle(a.id.slice(6), false);
  });

  function fromLocation() {
    var m = /^#phone-(\d+)$/.exec(location.hash);
    if (m) {
      toggle(m[1], true);
      var row = rowOf(m[1]);
      if (row) row.scrollIntoView();
    }
  }
  window.addEventListener("hashchange", fromLocation);

  var params = new URLSearchParams(location.search);
  // `?measure`: the page writes its width and timings on <html> (tests, benches/html_fleet.sh
  // read them from a DOM dump).
  function measure() {
    if (!params.has("measure")) return;
    var root = document.documentElement;
    root.setAttribute("data-scroll-width", String(root.scrollWidth));
    root.setAttribute("data-client-width", String(root.clientWidth));
    var t = performance.timing;
    if (t && t.domInteractive) root.setAttribute("data-dom-interactive-ms", String(t.domInteractive - t.navigationStart));
    var paints = performance.getEntriesByType ? performance.getEntriesByType("paint") : [];
    paints.forEach(function (e) { root.setAttribute("data-" + e.name + "-ms", String(Math.round(e.startTime))); });
  }
  window.addEventListener("load", function () {
    measure();
    if (params.has("measure")) document.documentElement.setAttribute("data-load-ms", String(Math.round(performance.now())));
  });
  if (params.has("q")) query.value = params.get("q");
  if (params.has("verdict")) verdict.value = params.get("verdict");
  if (reason && params.has("reason")) reason.value = params.get("reason");
  if (params.has("model")) model = params.get("model");
  function applyOwn() { clearModel(); apply(); }
  query.addEventListener("input", applyOwn);
  verdict.addEventListener("change", applyOwn);
  if (reason) reason.addEventListener("change", applyOwn);
  apply();
  fromLocation();
  measure();
})();

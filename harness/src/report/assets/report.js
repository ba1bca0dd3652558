"use strict";
// The conformance report page: everything it shows comes from the JSON in #report-data; text
// from servers is only ever set as textContent, never parsed as HTML.
(function () {
  var DATA = JSON.parse(document.getElementById("report-data").textContent);
  var RUNS = DATA.runs;
  var TIERS = ["status", "outcome", "shape", "exact"];
  var RANK = { none: 0, status: 1, outcome: 2, shape: 3, exact: 4 };
  var LEVELS = ["must", "should", "may", "info"];
  var state = { verdict: "", level: "", area: "", tier: "", text: "" };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function add(parent) {
    for (var i = 1; i < arguments.length; i++) {
      if (arguments[i]) parent.appendChild(arguments[i]);
    }
    return parent;
  }
  function areaLabel(area) {
    for (var i = 0; i < RUNS.length; i++) {
      var t = RUNS[i].areas && RUNS[i].areas[area];
      if (t) return area + " " + t.replace(/`/g, "");
    }
    return area;
  }
  function areaKey(a) {
    var m = /^(.*) §(\d+)$/.exec(a);
    return m ? [m[1], parseInt(m[2], 10), ""] : [a, 0, a];
  }
  function cmpArea(a, b) {
    var x = areaKey(a), y = areaKey(b);
    for (var i = 0; i < 3; i++) {
      if (x[i] < y[i]) return -1;
      if (x[i] > y[i]) return 1;
    }
    return 0;
  }
  function caseTier(r) { return r.tier === null || r.tier === undefined ? "ungraded" : r.tier; }

  // Rows: one per case × profile, with each run's result (or none).
  var rows = [];
  var byKey = {};
  RUNS.forEach(function (run, ri) {
    run.results.forEach(function (r) {
      var key = r.name + " [" + r.profile + "]";
      var row = byKey[key];
      if (!row) {
        row = { key: key, name: r.name, profile: r.profile, level: r.level, area: r.area, results: [] };
        byKey[key] = row;
        rows.push(row);
      }
      row.results[ri] = r;
    });
  });

  function resultMatches(r) {
    if (!r) return false;
    if (state.verdict && r.verdict !== state.verdict) return false;
    if (state.tier && caseTier(r) !== state.tier) return false;
    return true;
  }
  function rowMatches(row) {
    if (state.level && row.level !== state.level) return false;
    if (state.area && row.area !== state.area) return false;
    if (state.text && row.key.toLowerCase().indexOf(state.text.toLowerCase()) < 0) return false;
    return row.results.some(resultMatches);
  }

  function counts() { return { steps: 0, status: 0, outcome: 0, shape: 0, exact: 0 }; }
  function addStep(c, tier) {
    c.steps++;
    TIERS.forEach(function (t) { if (RANK[tier] >= RANK[t]) c[t]++; });
  }

  function bar(c, t) {
    var b = el("div", "bar");
    if (!c || !c.steps) {
      add(b, el("em", null, "–"));
      b.title = "no graded step";
      return b;
    }
    var share = c[t] / c.steps;
    var fill = el("span", "t-" + t);
    fill.style.width = (share * 100).toFixed(1) + "%";
    add(b, fill, el("em", null, (share * 100).toFixed(0) + "%"));
    b.title = t + ": " + c[t] + " of " + c.steps + " graded steps";
    b.setAttribute("data-tier", t);
    b.setAttribute("data-share", share.toFixed(4));
    return b;
  }

  function renderMatrix(shown) {
    var host = document.getElementById("matrix");
    host.textContent = "";
    var per = RUNS.map(function () { return { all: counts(), areas: {} }; });
    var areas = [];
    shown.forEach(function (row) {
      row.results.forEach(function (r, ri) {
        if (!resultMatches(r)) return;
        if (areas.indexOf(r.area) < 0) areas.push(r.area);
        var a = per[ri].areas[r.area] || (per[ri].areas[r.area] = counts());
        (r.steps || []).forEach(function (s) { addStep(per[ri].all, s.tier); addStep(a, s.tier); });
      });
    });
    areas.sort(cmpArea);
    var table = el("table", "matrix");
    var thead = el("thead");
    if (RUNS.length > 1) {
      var hr = el("tr");
      add(hr, el("th"), el("th"));
      RUNS.forEach(function (run) {
        var th = el("th", "run-head", run.name);
        th.colSpan = 4;
        add(hr, th);
      });
      add(thead, hr);
    }
    var tr = el("tr");
    add(tr, el("th", null, "spec area"), el("th", "num", "steps"));
    RUNS.forEach(function () {
      TIERS.forEach(function (t, i) { add(tr, el("th", i === 0 ? "first-tier" : null, t)); });
    });
    add(thead, tr);
    add(table, thead);
    var tbody = el("tbody");
    function row(label, get) {
      var r = el("tr");
      var steps = RUNS.map(function (_, ri) { var c = get(ri); return c ? c.steps : 0; });
      add(r, el("td", null, label), el("td", "num", steps.join(" / ")));
      RUNS.forEach(function (_, ri) {
        var c = get(ri);
        TIERS.forEach(function (t, i) { add(r, add(el("td", i === 0 ? "first-tier" : null), bar(c, t))); });
      });
      add(tbody, r);
    }
    row("all areas", function (ri) { return per[ri].all; });
    areas.forEach(function (a) {
      row(areaLabel(a), function (ri) { return per[ri].areas[a]; });
    });
    add(table, tbody);
    if (!areas.length) add(host, el("p", "empty", "No graded step matches the filters."));
    add(host, table);
  }

  function diffBlock(lines) {
    var pre = el("pre", "diff");
    lines.forEach(function (l) {
      var cls = l.charAt(0) === "-" ? "del" : l.charAt(0) === "+" ? "add" : l.charAt(0) === "@" ? "hunk" : null;
      add(pre, el("div", cls, l));
    });
    return pre;
  }

  function renderResult(run, r) {
    var box = el("div", "result");
    var h = el("h3");
    add(h, el("span", "badge v-" + r.verdict, r.verdict), el("span", "badge tier tier-" + caseTier(r), "tier: " + caseTier(r)));
    if (RUNS.length > 1) add(h, el("span", null, run.name));
    add(box, h);
    add(box, el("div", "meta", r.file + ":" + r.line + " · spec " + r.spec + " · target " + r.target));
    add(box, el("p", "reason", r.reason));
    if (r.deviation) {
      var d = el("div", "deviation");
      add(d, el("span", "kind", "known deviation (" + r.deviation.kind.replace("_", " ") + ") "), el("span", null, r.deviation.note));
      if (r.deviation.link) {
        var a = el("a", null, " link");
        a.href = r.deviation.link;
        a.rel = "noreferrer";
        add(d, a);
      }
      add(box, d);
    }
    (r.mismatches || []).forEach(function (m, i) {
      add(box, el("div", "step-head", (m.step ? "step " + m.step + ": " : "") + m.what + " differs"));
      add(box, diffBlock((r.mismatch_diffs || [])[i] || []));
    });
    (r.steps || []).forEach(function (s, i) {
      var st = el("div", "step");
      var head = el("div", "step-head");
      add(head, el("span", "badge tier tier-" + s.tier, s.tier), el("span", null, "step " + s.step + " " + (s.request || "")));
      add(st, head);
      if (s.missed) add(st, el("div", "meta", "next tier missed: " + s.missed));
      if (s.curl) add(st, el("pre", "curl", s.curl));
      if (s.expected || s.observed) {
        var sides = el("div", "sides");
        var left = el("div"), right = el("div");
        add(left, el("h4", null, "expected (InfluxDB, from the reference)"), el("pre", null, s.expected || "(no snapshot)"));
        add(right, el("h4", null, "observed"), el("pre", null, s.observed || "(nothing)"));
        add(sides, left, right);
        add(st, sides);
        var diff = (r.step_diffs || [])[i] || [];
        if (diff.length) add(st, diffBlock(diff));
      }
      add(box, st);
    });
    (r.notes || []).forEach(function (n) { add(box, el("pre", "note", n)); });
    if (r.reproduce && !(r.steps || []).some(function (s) { return s.curl === r.reproduce; })) {
      add(box, el("div", "meta", "reproduce with:"), el("pre", "curl", r.reproduce));
    }
    return box;
  }

  function renderCases(shown) {
    var host = document.getElementById("cases");
    host.textContent = "";
    var limit = 400;
    shown.slice(0, limit).forEach(function (row) {
      var d = el("details", "case");
      d.setAttribute("data-key", row.key);
      var s = el("summary");
      row.results.forEach(function (r) {
        if (!r) return;
        add(s, el("span", "badge v-" + r.verdict, r.verdict), el("span", "badge tier tier-" + caseTier(r), caseTier(r)));
      });
      add(s, el("span", "case-name", row.key), el("span", "meta", row.level + " · " + areaLabel(row.area)));
      add(d, s);
      var filled = false;
      d.addEventListener("toggle", function () {
        if (!d.open || filled) return;
        filled = true;
        row.results.forEach(function (r, ri) { if (r) add(d, renderResult(RUNS[ri], r)); });
      });
      add(host, d);
    });
    if (shown.length > limit) add(host, el("p", "empty", (shown.length - limit) + " more: narrow the filters to see them."));
    if (!shown.length) add(host, el("p", "empty", "No case matches the filters."));
  }

  function render() {
    var shown = rows.filter(rowMatches);
    document.getElementById("shown").textContent = shown.length + " of " + rows.length + " cases shown";
    renderMatrix(shown);
    renderCases(shown);
  }

  function options(id, values, labels) {
    var sel = document.getElementById(id);
    values.forEach(function (v, i) {
      var o = el("option", null, labels ? labels[i] : v);
      o.value = v;
      add(sel, o);
    });
    sel.addEventListener("change", function () {
      state[sel.getAttribute("data-key")] = sel.value;
      render();
    });
  }

  var verdicts = [], tiers = [], areas = [];
  rows.forEach(function (row) {
    if (areas.indexOf(row.area) < 0) areas.push(row.area);
    row.results.forEach(function (r) {
      if (!r) return;
      if (verdicts.indexOf(r.verdict) < 0) verdicts.push(r.verdict);
      if (tiers.indexOf(caseTier(r)) < 0) tiers.push(caseTier(r));
    });
  });
  areas.sort(cmpArea);
  tiers.sort(function (a, b) { return (RANK[a] === undefined ? -1 : RANK[a]) - (RANK[b] === undefined ? -1 : RANK[b]); });
  options("f-verdict", verdicts);
  options("f-level", LEVELS.filter(function (l) { return rows.some(function (r) { return r.level === l; }); }));
  options("f-area", areas, areas.map(areaLabel));
  options("f-tier", tiers);
  document.getElementById("f-text").addEventListener("input", function (e) {
    state.text = e.target.value;
    render();
  });
  render();
  document.body.setAttribute("data-ready", "true");
})();

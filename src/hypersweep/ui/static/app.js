/* hypersweep dashboard: charts from the JSON API, live updates by polling the change cursor.
   Every user string goes into the page as text (textContent), never as HTML. */
(function () {
  "use strict";
  var hs = (window.hs = {});
  var enc = encodeURIComponent;
  var layout = { margin: { t: 20, r: 20, b: 40, l: 60 }, template: "plotly_white", height: 360 };
  var config = { displaylogo: false, responsive: true };

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) { throw new Error(body.error || r.statusText); }
        return body;
      });
    });
  }
  function note(id, text) { var el = document.getElementById(id); if (el) { el.textContent = text || ""; } }
  function plot(id, data, extra) {
    var el = document.getElementById(id);
    if (!el || !window.Plotly) { return; }
    window.Plotly.newPlot(el, data, Object.assign({}, layout, extra || {}), config);
  }
  function rowLinks(root) {
    root.querySelectorAll("tr[data-href]").forEach(function (tr) {
      if (tr.dataset.bound) { return; }
      tr.dataset.bound = "1";
      tr.addEventListener("click", function (e) {
        if (e.target.closest("a, input, button, label")) { return; }
        window.location.href = tr.getAttribute("data-href");
      });
    });
  }
  hs.rowLinks = rowLinks;

  hs.liveStudies = function () {
    var table = document.querySelector("table[data-live-studies]");
    if (!table) { return; }
    rowLinks(table);
    var q = window.location.search;
    setInterval(function () {
      getJSON("/api/studies" + q).then(function (rows) {
        rows.forEach(function (r) {
          var tr = table.querySelector('tr[data-name="' + CSS.escape(r.name) + '"]');
          if (!tr) { return; }
          var cell = tr.querySelector('[data-field="trials_complete"]');
          if (cell) { cell.textContent = String(r.trials_complete); }
        });
      }).catch(function () {});
    }, 2000);
  };

  function historyChart(name) {
    return getJSON("/api/studies/" + enc(name) + "/history").then(function (h) {
      var pts = { x: [], y: [], text: [] };
      h.number.forEach(function (n, i) { if (h.state[i] === "complete") { pts.x.push(n); pts.y.push(h.value[i]); } });
      plot("chart-history", [
        { x: pts.x, y: pts.y, mode: "markers", type: "scattergl", name: h.objective || "objective" },
        { x: h.number, y: h.best, mode: "lines", name: "best so far", line: { shape: "hv" } },
      ], { xaxis: { title: { text: "trial" } }, yaxis: { title: { text: h.objective || "" } } });
      note("history-note", h.downsampled ? "downsampled: " + h.number.length + " of " + h.total + " trials shown" : "");
      return h;
    });
  }

  function curvesChart(name) {
    return getJSON("/api/studies/" + enc(name) + "/curves").then(function (c) {
      var traces = c.curves.map(function (cv) {
        var pruned = cv.state === "pruned";
        return {
          x: cv.step, y: cv.value, mode: pruned ? "lines+markers" : "lines", name: "#" + cv.number + (pruned ? " (pruned)" : ""),
          line: pruned ? { dash: "dot", color: "#b42318" } : {}, marker: pruned ? { symbol: "x", size: 6 } : {},
        };
      });
      if (!traces.length) { note("curves-note", "no trial reported " + (c.metric || "its objective") + " per step"); return; }
      plot("chart-curves", traces, { showlegend: traces.length <= 20, xaxis: { title: { text: "step" } }, yaxis: { title: { text: c.metric } } });
      note("curves-note", c.shown < c.total ? "the most recent " + c.shown + " of " + c.total + " trials" : "pruned trials are dotted, marked x");
    });
  }

  function timelineChart(name) {
    return getJSON("/api/studies/" + enc(name) + "/timeline").then(function (t) {
      var byState = {};
      t.bars.forEach(function (b) {
        var s = (byState[b.state] = byState[b.state] || { x: [], y: [], text: [] });
        s.x.push(b.start, b.end, null); s.y.push(b.worker, b.worker, null); s.text.push("#" + b.number, "#" + b.number, null);
      });
      var traces = Object.keys(byState).map(function (k) {
        return { x: byState[k].x, y: byState[k].y, text: byState[k].text, mode: "lines", name: k, line: { width: 12 }, hoverinfo: "text+x" };
      });
      if (!traces.length) { note("timeline-note", "no trial has started yet"); return; }
      plot("chart-timeline", traces, { xaxis: { type: "date" } });
      note("timeline-note", t.shown < t.total ? "the most recent " + t.shown + " of " + t.total + " trials" : "");
    });
  }

  function optunaPlots(name) {
    return getJSON("/api/studies/" + enc(name) + "/plots").then(function (p) {
      var root = document.getElementById("plots");
      if (!root) { return; }
      root.textContent = "";
      var pareto = { pareto_front: "chart-pareto", hypervolume_history: "chart-hypervolume" };
      if ("pareto_front" in p.titles) {
        var why = [];
        Object.keys(pareto).forEach(function (key) {
          var fig = p.figures[key], div = document.getElementById(pareto[key]);
          if (!div) { return; }
          if (!fig) { why.push(p.titles[key] + " not shown: " + (p.notes[key] || "nothing to draw")); return; }
          div.hidden = false;
          window.Plotly.newPlot(div, fig.data, Object.assign({}, fig.layout, { title: { text: p.titles[key] }, height: 420 }), config);
        });
        note("pareto-note", why.join("; "));
      }
      Object.keys(p.titles).forEach(function (key) {
        if (key === "optimization_history" || key === "intermediate_values" || key in pareto) { return; }
        var h = document.createElement("h3"); h.textContent = p.titles[key]; root.appendChild(h);
        var fig = p.figures[key];
        if (!fig) {
          var m = document.createElement("p"); m.className = "muted"; m.textContent = "not shown: " + (p.notes[key] || "nothing to draw"); root.appendChild(m);
          return;
        }
        var div = document.createElement("div"); div.className = "chart"; div.setAttribute("data-plot", key); root.appendChild(div);
        window.Plotly.newPlot(div, fig.data, Object.assign({}, fig.layout, { title: { text: "" }, height: 420 }), config);
      });
      if (p.notes._all) { var m = document.createElement("p"); m.className = "muted"; m.textContent = p.notes._all; root.appendChild(m); }
    });
  }

  hs.studyPage = function (el) {
    var name = el.getAttribute("data-name");
    rowLinks(el);
    var errors = function (e) { window.__hsErrors.push(String(e)); };
    historyChart(name).catch(errors);
    curvesChart(name).catch(errors);
    timelineChart(name).catch(errors);
    optunaPlots(name).catch(errors);
    var cursor = null, pending = 0;
    var fields = { complete: '[data-testid="complete-count"]', pruned: '[data-field="trials_pruned"]', failed: '[data-field="trials_failed"]', running: '[data-field="trials_running"]' };
    function tick() {
      var url = "/api/studies/" + enc(name) + "/changes" + (cursor === null ? "" : "?after=" + cursor);
      getJSON(url).then(function (c) {
        Object.keys(fields).forEach(function (k) {
          var node = el.querySelector(fields[k]); if (node) { node.textContent = String(c.counts[k] || 0); }
        });
        if (c.reset) { window.location.reload(); return; }
        var done = c.trials.filter(function (t) { return t.state === "complete" && t.objective !== null; });
        var chart = document.getElementById("chart-history");
        if (done.length && chart && chart.data) {
          window.Plotly.extendTraces(chart, { x: [done.map(function (t) { return t.number; })], y: [done.map(function (t) { return t.objective; })] }, [0]);
        }
        pending += c.trials.length;
        if (c.trials.length) { note("history-note", pending + " trial update(s) since this page loaded: reload for the full table"); }
        cursor = c.cursor;
      }).catch(function () {});
    }
    tick();
    setInterval(tick, 1000);
  };

  hs.trialPage = function (el) {
    var study = el.getAttribute("data-study"), number = el.getAttribute("data-number");
    var base = "/api/studies/" + enc(study) + "/trials/" + number;
    getJSON(base + "/history").then(function (h) {
      var traces = function (series) {
        return Object.keys(series).map(function (k) {
          return { x: series[k].map(function (p) { return p.step; }), y: series[k].map(function (p) { return p.value; }), mode: "lines", name: k };
        });
      };
      var show = function (id, series, axis, empty) {
        var data = traces(series);
        if (data.length) { plot(id, data, { xaxis: { title: { text: axis } } }); return; }
        var el = document.getElementById(id);
        if (el) { el.className = "muted"; el.textContent = empty; }
      };
      show("chart-trial-history", h.history, "step", "this trial reported no per-step metrics");
      show("chart-trial-system", h.system_metrics, "sample", "no system metrics were sampled (the trial was shorter than the sampling period, or monitoring is off)");
    }).catch(function (e) { window.__hsErrors.push(String(e)); });
    var log = document.getElementById("log"), follow = document.getElementById("follow");
    var length = log ? log.textContent.length : 0;
    setInterval(function () {
      if (!follow || !follow.checked) { return; }
      getJSON(base + "/log?after=" + length).then(function (l) {
        if (l.text) { log.textContent += l.text; log.scrollTop = log.scrollHeight; }
        length = l.length;
        if (l.state !== "running") { follow.checked = false; }
      }).catch(function () {});
    }, 1000);
  };

  hs.comparePage = function () {
    var data = document.getElementById("compare-data");
    if (!data) { return; }
    var curves = JSON.parse(data.textContent);
    plot("chart-compare", curves.map(function (c) {
      return { x: c.step, y: c.value, mode: "lines", name: c.trial + " " + c.metric };
    }), { xaxis: { title: { text: "step" } } });
  };

  document.addEventListener("DOMContentLoaded", function () { rowLinks(document); });
})();

/* The EM playground (chapters/playground.md): the page, its controls and its pictures.
 * The numerics are in em-numerics.js (window.EMNumerics); the data in data.js.
 *
 * A small hook drives the page from a script (the browser tests use it):
 *   emPlayground.setState({dataset, x, labels, K, params, regCovar})  a data set and a start θ(0)
 *   emPlayground.eStep(), .mStep(), .step(n)   what the buttons do; step(n) = n EM iterations
 *   emPlayground.state()                       data, labels, θ, responsibilities, the trace
 *   emPlayground.boundAt(k, mean)              Fig. 4.2 at one value of μ_k: log p, L(q, θ), KL
 */
(function () {
  "use strict";
  var EM = window.EMNumerics, DATA = window.EM_PLAYGROUND_DATA;
  var COLOURS = ["#D55E00", "#0072B2", "#009E73", "#E69F00", "#CC79A7"];  // emlib.plotting.COLOURS
  var SHAPES_RGB = COLOURS.map(function (c) {
    return [1, 3, 5].map(function (i) { return parseInt(c.slice(i, i + 2), 16); });
  });
  var DATASETS = {
    register: {name: "Edmond's heights (1-D, cm)", axis: ["height (cm)"], roundTo: 1},
    old_faithful: {name: "Old Faithful (2-D)", axis: ["eruption (min)", "waiting (min)"], roundTo: 0.01}
  };
  var CONVERGENCE_TOL = 1e-8;  // emlib.fit_gmm's default: stop when the increase is this small
  var MAX_RUN = 10000;

  var root, els = {}, s;  // s: the state

  function originalData(name) {
    if (name === "register") return {x: DATA.register.height_cm.slice(), recorded: DATA.register.label.slice()};
    var f = DATA.old_faithful;
    return {x: f.eruptions.map(function (e, i) { return [e, f.waiting[i]]; }), recorded: null};
  }

  function freshState(name) {
    var data = originalData(name);
    return {dataset: name, x: data.x, labels: data.x.map(function () { return -1; }), recorded: data.recorded,
            K: 2, regCovar: 1e-6, seed: 1, startName: "spread over the data", params0: null, params: null,
            q: null, qParams: null, trace: [], iteration: 0, phase: "start", message: "",
            cursor: null, boundK: 0, boundMean: null, running: false};
  }

  // ---------------------------------------------------------------- starts
  function defaultStart(x, K) {  // means at the quantiles (k + ½)/K of the first coordinate
    var two = EM.is2d(x), order = x.map(function (p, i) { return i; });
    order.sort(function (a, b) { return (two ? x[a][0] - x[b][0] : x[a] - x[b]); });
    var means = [];
    for (var k = 0; k < K; k++) {
      var p = x[order[Math.min(x.length - 1, Math.floor((k + 0.5) / K * x.length))]];
      means.push(two ? [p[0], p[1]] : p);
    }
    return withMeans(x, means);
  }

  function withMeans(x, means) {  // equal weights, the data's (co)variance for every component
    var spread = EM.dataCovariance(x), K = means.length;
    return {weights: means.map(function () { return 1 / K; }), means: means,
            covariances: means.map(function () { return EM.is2d(x) ? [[spread[0][0], spread[0][1]], [spread[1][0], spread[1][1]]] : spread; })};
  }

  function randomStart(x, K, seed) {  // K distinct data points as means, drawn with a seeded generator
    var random = EM.seededRandom(seed), seen = {}, distinct = [];
    x.forEach(function (p) { var key = String(p); if (!seen[key]) { seen[key] = 1; distinct.push(p); } });
    for (var k = 0; k < K; k++) {
      var j = k + Math.floor(random() * (distinct.length - k)), t = distinct[k];
      distinct[k] = distinct[j]; distinct[j] = t;
    }
    return withMeans(x, distinct.slice(0, K).map(function (p) { return Array.isArray(p) ? p.slice() : p; }));
  }

  function clone(params) { return JSON.parse(JSON.stringify(params)); }

  // ---------------------------------------------------------------- EM, as the buttons do it
  function startFrom(params, name) {
    stopRun();
    s.params0 = clone(params); s.params = clone(params); s.startName = name || s.startName;
    s.q = null; s.qParams = null; s.trace = []; s.iteration = 0; s.phase = "start";
  }

  function labelsOrNull() {
    return s.labels.some(function (l) { return l >= 0; }) ? s.labels : null;
  }

  function doEStep() {
    var e = EM.eStep(s.x, s.params, labelsOrNull());
    s.q = e.responsibilities; s.qParams = clone(s.params);
    if (s.phase !== "after-E") s.trace.push(e.logLikelihood);
    s.phase = "after-E";
    s.boundMean = s.qParams.means[s.boundK];
    return e.logLikelihood;
  }

  function doMStep() {  // returns false if there is nothing to do: the last step was already an M-step
    if (s.phase === "after-M") return false;
    if (!s.q) doEStep();
    s.params = EM.mStep(s.x, s.q, s.regCovar);
    s.iteration += 1; s.phase = "after-M";
    return true;
  }

  function doIteration() {  // as emlib.em: (E-step at θ(t) if not done), M-step, E-step at θ(t+1)
    if (s.phase !== "after-E") doEStep();
    doMStep();
    return doEStep();
  }

  function converged() {
    var n = s.trace.length;
    return n >= 2 && s.trace[n - 1] - s.trace[n - 2] <= CONVERGENCE_TOL * Math.max(1, Math.abs(s.trace[n - 1]));
  }

  function stopRun() { if (s && s.running) { s.running = false; } }

  function runToConvergence() {
    if (s.running) { stopRun(); say("Stopped at iteration " + s.iteration + "."); render(); return; }
    s.running = true; render();
    var started = s.iteration;
    function frame() {
      if (!s.running) return;
      try {
        for (var i = 0; i < 5 && !converged() && s.iteration - started < MAX_RUN; i++) doIteration();
      } catch (error) { s.running = false; say("EM stopped: " + error.message); render(); return; }
      var done = converged() || s.iteration - started >= MAX_RUN;
      if (done) {
        s.running = false;
        say((converged() ? "Converged" : "Stopped after " + MAX_RUN + " iterations") + " at iteration " + s.iteration +
            ": log-likelihood " + fmt(s.trace[s.trace.length - 1], 4) + ".");
      }
      render();
      if (!done) window.requestAnimationFrame(frame);
    }
    window.requestAnimationFrame(frame);
  }

  // ---------------------------------------------------------------- formatting and small helpers
  function fmt(v, digits) { return (Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-3)) ? v.toExponential(digits) : v.toFixed(digits); }
  function fmtGap(at) {  // a gap within rounding of 0 says so, rather than showing a tiny negative number
    return Math.abs(at.gap) <= 1e-9 * Math.max(1, Math.abs(at.logLikelihood)) ? "0 to rounding" : fmt(at.gap, 3);
  }
  function say(text) { s.message = text; }
  function mix(gamma) {  // a point's colour: the responsibilities' mixture of the components' colours
    var rgb = [0, 0, 0];
    gamma.forEach(function (g, k) { for (var c = 0; c < 3; c++) rgb[c] += g * SHAPES_RGB[k][c]; });
    return "rgb(" + rgb.map(Math.round).join(",") + ")";
  }
  function esc(t) { return String(t).replace(/&/g, "&amp;").replace(/</g, "&lt;"); }
  function h(tag, attrs, body) {
    var a = Object.keys(attrs).map(function (k) { return " " + k + '="' + esc(attrs[k]).replace(/"/g, "&quot;") + '"'; }).join("");
    return "<" + tag + a + ">" + (body || "") + "</" + tag + ">";
  }
  function extent(values, pad) {
    var lo = Math.min.apply(null, values), hi = Math.max.apply(null, values), p = (hi - lo || 1) * pad;
    return [lo - p, hi + p];
  }
  function ticks(lo, hi, count) {
    var step = Math.pow(10, Math.floor(Math.log10((hi - lo) / count))), out = [];
    [1, 2, 5, 10].some(function (m) { if ((hi - lo) / (step * m) <= count) { step *= m; return true; } return false; });
    for (var v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(+v.toFixed(10));
    return out;
  }

  // ---------------------------------------------------------------- the data plot
  var geometry = null;  // the last plot's scales, for the pointer and the keyboard

  function plotScales(width) {
    var two = EM.is2d(s.x), height = two ? Math.min(420, Math.max(280, width * 0.7)) : Math.min(360, Math.max(300, width * 0.55));
    var m = {left: two ? 48 : 40, right: 12, top: 12, bottom: two ? 40 : 40};
    var xs = two ? s.x.map(function (p) { return p[0]; }) : s.x;
    var xr = extent(xs.concat(meansCoordinate(0)), 0.06);
    var g = {two: two, width: width, height: height, m: m, xr: xr};
    g.sx = function (v) { return m.left + (v - xr[0]) / (xr[1] - xr[0]) * (width - m.left - m.right); };
    g.ix = function (px) { return xr[0] + (px - m.left) / (width - m.left - m.right) * (xr[1] - xr[0]); };
    if (two) {
      var yr = extent(s.x.map(function (p) { return p[1]; }).concat(meansCoordinate(1)), 0.06);
      g.yr = yr;
      g.sy = function (v) { return height - m.bottom - (v - yr[0]) / (yr[1] - yr[0]) * (height - m.top - m.bottom); };
      g.iy = function (py) { return yr[0] + (height - m.bottom - py) / (height - m.top - m.bottom) * (yr[1] - yr[0]); };
    } else {
      g.stripTop = height - m.bottom - 62; g.histBottom = g.stripTop - 26;
    }
    return g;
  }

  function meansCoordinate(j) {
    return s.params.means.map(function (mu) { return Array.isArray(mu) ? mu[j] : mu; });
  }

  function pointPosition(g, i) {
    if (g.two) return [g.sx(s.x[i][0]), g.sy(s.x[i][1])];
    var jitter = ((i * 2654435761) % 1000) / 1000;  // a fixed vertical spread in the strip
    return [g.sx(s.x[i]), g.stripTop + 6 + jitter * 40];
  }

  function drawPlot() {
    var width = Math.max(280, els.plotBox.clientWidth || 600), g = plotScales(width), out = [];
    geometry = g;
    var fg = "currentColor", two = g.two, K = s.params.weights.length;
    // axes and ticks
    var xAxisY = g.height - g.m.bottom;
    out.push(h("line", {x1: g.m.left, x2: width - g.m.right, y1: xAxisY, y2: xAxisY, stroke: fg}));
    ticks(g.xr[0], g.xr[1], width < 500 ? 5 : 9).forEach(function (t) {
      out.push(h("line", {x1: g.sx(t), x2: g.sx(t), y1: xAxisY, y2: xAxisY + 5, stroke: fg}));
      out.push(h("text", {x: g.sx(t), y: xAxisY + 18, "text-anchor": "middle", class: "emp-tick"}, String(t)));
    });
    out.push(h("text", {x: (g.m.left + width - g.m.right) / 2, y: g.height - 4, "text-anchor": "middle", class: "emp-axis"}, DATASETS[s.dataset] ? DATASETS[s.dataset].axis[0] : "x"));
    if (two) {
      out.push(h("line", {x1: g.m.left, x2: g.m.left, y1: g.m.top, y2: xAxisY, stroke: fg}));
      ticks(g.yr[0], g.yr[1], 6).forEach(function (t) {
        out.push(h("line", {x1: g.m.left - 5, x2: g.m.left, y1: g.sy(t), y2: g.sy(t), stroke: fg}));
        out.push(h("text", {x: g.m.left - 8, y: g.sy(t) + 4, "text-anchor": "end", class: "emp-tick"}, String(t)));
      });
      out.push(h("text", {x: 12, y: (g.m.top + xAxisY) / 2, "text-anchor": "middle", class: "emp-axis",
                          transform: "rotate(-90 12 " + (g.m.top + xAxisY) / 2 + ")"}, DATASETS[s.dataset] ? DATASETS[s.dataset].axis[1] : "y"));
      els.legend.textContent = "Points coloured by their responsibilities after an E-step (grey before); squares are labelled points. " +
        "Ellipses: one (solid) and two (dashed) standard deviations of each component.";
      out.push("<defs>" + h("clipPath", {id: "emp-clip"}, h("rect", {x: g.m.left, y: g.m.top, width: width - g.m.left - g.m.right, height: xAxisY - g.m.top})) + "</defs>");
      out.push('<g clip-path="url(#emp-clip)">'); drawEllipses(g, out); out.push("</g>");
    } else {
      drawHistogram(g, out);
    }
    // the points
    s.x.forEach(function (p, i) {
      var xy = pointPosition(g, i), colour = s.q ? mix(s.q[i]) : "#8a8a8a";
      if (s.labels[i] >= 0) {
        out.push(h("rect", {x: xy[0] - 3.5, y: xy[1] - 3.5, width: 7, height: 7, fill: COLOURS[s.labels[i]], stroke: fg, "stroke-width": 1}));
      } else {
        out.push(h("circle", {cx: xy[0], cy: xy[1], r: two ? 3.2 : 2.6, fill: colour, "fill-opacity": 0.85}));
      }
    });
    // the means: handles to drag
    s.params.means.forEach(function (mu, k) {
      var px = two ? g.sx(mu[0]) : g.sx(mu), py = two ? g.sy(mu[1]) : g.histBottom + 13;
      out.push(h("g", {class: "emp-handle", "data-k": k},
        (two ? h("circle", {cx: px, cy: py, r: 9, fill: COLOURS[k], stroke: "#fff", "stroke-width": 2})
             : h("path", {d: "M" + px + " " + (py - 11) + " l-9 18 h18 z", fill: COLOURS[k], stroke: "#fff", "stroke-width": 1.5})) +
        h("text", {x: px, y: py + (two ? 4 : 5), "text-anchor": "middle", class: "emp-handle-label"}, String(k + 1))));
    });
    // the keyboard cursor
    if (s.cursor) {
      var cx = g.sx(s.cursor[0]), cy = two ? g.sy(s.cursor[1]) : g.stripTop + 26;
      out.push(h("path", {d: "M" + (cx - 10) + " " + cy + " h20 M" + cx + " " + (cy - 10) + " v20", stroke: fg, "stroke-width": 2, class: "emp-cursor"}));
    }
    els.plot.setAttribute("viewBox", "0 0 " + width + " " + g.height);
    els.plot.setAttribute("width", width); els.plot.setAttribute("height", g.height);
    els.plot.innerHTML = out.join("");
  }

  function drawHistogram(g, out) {
    var K = s.params.weights.length, range = g.xr, binWidth = ticks(range[0], range[1], 28)[1] - ticks(range[0], range[1], 28)[0];
    var first = Math.floor(range[0] / binWidth) * binWidth, nBins = Math.ceil((range[1] - first) / binWidth);
    var counts = [], i, b, k;
    for (b = 0; b < nBins; b++) { counts.push([]); for (k = 0; k < K; k++) counts[b].push(0); }
    s.x.forEach(function (v, i2) {
      var bin = Math.min(nBins - 1, Math.max(0, Math.floor((v - first) / binWidth)));
      for (k = 0; k < K; k++) counts[bin][k] += s.q ? s.q[i2][k] : (k === 0 ? 1 : 0);
    });
    var totals = counts.map(function (c) { return c.reduce(function (a, v) { return a + v; }, 0); });
    // the mixture's curves, scaled to counts: n · bin width · π_k N(x | μ_k, σ_k²)
    var grid = [], n = s.x.length;
    for (i = 0; i <= 160; i++) grid.push(range[0] + (range[1] - range[0]) * i / 160);
    var curves = s.params.weights.map(function (w, k2) {
      return grid.map(function (v) { return n * binWidth * w * Math.exp(EM.logGaussian1d(v, s.params.means[k2], s.params.covariances[k2])); });
    });
    var total = grid.map(function (v, j) { return curves.reduce(function (a, c) { return a + c[j]; }, 0); });
    var top = Math.max(Math.max.apply(null, totals), Math.max.apply(null, total)) * 1.08 || 1;
    var sy = function (c) { return g.histBottom - c / top * (g.histBottom - g.m.top); };
    for (b = 0; b < nBins; b++) {
      var base = 0, x0 = g.sx(first + b * binWidth), x1 = g.sx(first + (b + 1) * binWidth);
      for (k = 0; k < K; k++) {
        var c = counts[b][k]; if (c <= 0) continue;
        out.push(h("rect", {x: x0 + 0.5, width: Math.max(0.5, x1 - x0 - 1), y: sy(base + c), height: sy(base) - sy(base + c),
                             fill: s.q ? COLOURS[k] : "#9a9a9a", "fill-opacity": 0.55}));
        base += c;
      }
    }
    out.push(h("line", {x1: g.m.left, x2: g.width - g.m.right, y1: g.histBottom, y2: g.histBottom, stroke: "currentColor", "stroke-opacity": 0.5}));
    var path = function (values) {
      return values.map(function (v, j) { return (j ? "L" : "M") + g.sx(grid[j]).toFixed(1) + " " + sy(v).toFixed(1); }).join("");
    };
    curves.forEach(function (c, k2) { out.push(h("path", {d: path(c), fill: "none", stroke: COLOURS[k2], "stroke-width": 2.5})); });
    if (K > 1) out.push(h("path", {d: path(total), fill: "none", stroke: "currentColor", "stroke-width": 1.5, "stroke-dasharray": "5 3"}));
    els.legend.textContent = "Bars: points per " + binWidth + (s.dataset === "register" ? " cm" : " wide") + " bin, split by the responsibilities after an E-step (grey before). " +
      "Curves: n · width · π_k N(x | μ_k, σ_k²), dashed: their sum. Below: every point, coloured by its responsibilities; squares are labelled points.";
  }

  function drawEllipses(g, out) {
    s.params.means.forEach(function (mu, k) {
      var e = EM.eigen2(s.params.covariances[k]);
      [1, 2].forEach(function (radius) {
        var d = [];
        for (var j = 0; j <= 72; j++) {
          var a = 2 * Math.PI * j / 72, u = radius * Math.sqrt(Math.max(e.values[0], 0)) * Math.cos(a), v = radius * Math.sqrt(e.values[1]) * Math.sin(a);
          var px = mu[0] + u * e.vectors[0][0] + v * e.vectors[1][0], py = mu[1] + u * e.vectors[0][1] + v * e.vectors[1][1];
          d.push((j ? "L" : "M") + g.sx(px).toFixed(1) + " " + g.sy(py).toFixed(1));
        }
        out.push(h("path", {d: d.join("") + "Z", fill: "none", stroke: COLOURS[k], "stroke-width": radius === 1 ? 2.5 : 1.5, "stroke-dasharray": radius === 1 ? "" : "6 4"}));
      });
    });
  }

  // ---------------------------------------------------------------- the trace
  function drawTrace() {
    var width = Math.max(260, els.traceBox.clientWidth || 320), height = 220, m = {left: 72, right: 10, top: 10, bottom: 34}, out = [];
    var t = s.trace, n = t.length, logScale = els.logScale.checked && n > 2;
    if (logScale) {  // log10 of the distance to the latest log-likelihood, as chapter 4's Fig. 4.5
      t = s.trace.slice(0, n - 1).map(function (v) { return Math.log10(Math.max(s.trace[n - 1] - v, 1e-16)); });
      n = t.length;
    }
    if (n === 0) {
      out.push(h("text", {x: width / 2, y: height / 2, "text-anchor": "middle", class: "emp-tick"}, "Take an E-step: the log-likelihood of θ(0) starts the trace."));
    } else {
      var yr = extent(t, 0.08); if (yr[1] - yr[0] < 1e-6 * Math.max(1, Math.abs(yr[0]))) yr = [yr[0] - 1, yr[1] + 1]; var xr = [0, Math.max(1, n - 1)];
      var sx = function (v) { return m.left + (v - xr[0]) / (xr[1] - xr[0]) * (width - m.left - m.right); };
      var sy = function (v) { return height - m.bottom - (v - yr[0]) / (yr[1] - yr[0]) * (height - m.top - m.bottom); };
      out.push(h("line", {x1: m.left, x2: width - m.right, y1: height - m.bottom, y2: height - m.bottom, stroke: "currentColor"}));
      out.push(h("line", {x1: m.left, x2: m.left, y1: m.top, y2: height - m.bottom, stroke: "currentColor"}));
      var yTicks = ticks(yr[0], yr[1], 4), decimals = yTicks.length > 1 ? Math.max(0, Math.min(6, -Math.floor(Math.log10(yTicks[1] - yTicks[0])))) : 2;
      yTicks.forEach(function (v) {
        out.push(h("text", {x: m.left - 6, y: sy(v) + 4, "text-anchor": "end", class: "emp-tick"}, logScale ? (v === Math.round(v) ? "1e" + v : "") : v.toFixed(decimals)));
      });
      out.push(h("text", {x: 12, y: (m.top + height - m.bottom) / 2, "text-anchor": "middle", class: "emp-axis",
                          transform: "rotate(-90 12 " + (m.top + height - m.bottom) / 2 + ")"}, logScale ? "distance (nats)" : "log p(X | θ(t))"));
      ticks(xr[0], xr[1], width < 400 ? 4 : 6).filter(function (v) { return v === Math.round(v); }).forEach(function (v) {
        out.push(h("text", {x: sx(v), y: height - m.bottom + 16, "text-anchor": "middle", class: "emp-tick"}, String(v)));
      });
      out.push(h("text", {x: (m.left + width) / 2, y: height - 4, "text-anchor": "middle", class: "emp-axis"}, "iteration t"));
      out.push(h("path", {d: t.map(function (v, i) { return (i ? "L" : "M") + sx(i).toFixed(1) + " " + sy(v).toFixed(1); }).join(""),
                          fill: "none", stroke: COLOURS[1], "stroke-width": 2}));
      if (n <= 60) t.forEach(function (v, i) { out.push(h("circle", {cx: sx(i), cy: sy(v), r: 2.5, fill: COLOURS[1]})); });
    }
    els.trace.setAttribute("viewBox", "0 0 " + width + " " + height);
    els.trace.setAttribute("width", width); els.trace.setAttribute("height", height);
    els.trace.innerHTML = out.join("");
    t = s.trace; n = t.length;
    var smallest = Infinity;
    for (var i = 1; i < n; i++) smallest = Math.min(smallest, t[i] - t[i - 1]);
    els.traceText.textContent = n === 0 ? "No log-likelihood yet." :
      "log p(X | θ(" + (n - 1) + ")) = " + fmt(t[n - 1], 6) + (n > 1 ? "; smallest increase so far " + fmt(smallest, 3) +
      (smallest >= -1e-9 * Math.max(1, Math.abs(t[n - 1])) ? " (never went down)" : " (WENT DOWN: a bug)") : "") + ".";
  }

  // ---------------------------------------------------------------- the bound (Fig. 4.2)
  function paramsWithMean(params, k, mean) {
    var p = clone(params); p.means[k] = mean; return p;
  }

  /* Fig. 4.2 at μ_k = mean, every other parameter at θ(t), the θ of the last E-step, whose
   * posterior is q: log p(X | θ), L(q, θ) (eq-elbo) and their gap KL (eq-decomposition). */
  function boundAt(k, mean) {
    if (!s.q) throw new Error("no E-step yet: q is not defined");
    var p = paramsWithMean(s.qParams, k, mean), labels = labelsOrNull();
    var ll = EM.logLikelihood(s.x, p, labels), bound = EM.elbo(s.x, p, s.q);
    return {mean: mean, logLikelihood: ll, bound: bound, gap: ll - bound};
  }

  function drawBound() {
    var two = EM.is2d(s.x);
    els.boundSection.hidden = two;
    if (two) return;
    var K = s.params.weights.length;
    if (s.boundK >= K) s.boundK = 0;
    els.boundK.innerHTML = s.params.weights.map(function (w, k) { return h("option", {value: k}, "μ" + (k + 1)); }).join("");
    els.boundK.value = String(s.boundK);
    var width = Math.max(260, els.boundBox.clientWidth || 320), height = 220, m = {left: 64, right: 10, top: 10, bottom: 34}, out = [];
    var lo = Math.min.apply(null, s.x), hi = Math.max.apply(null, s.x);
    els.boundSlider.min = String(lo); els.boundSlider.max = String(hi); els.boundSlider.step = String((hi - lo) / 400);
    els.boundSlider.disabled = !s.q;
    if (!s.q) {
      out.push(h("text", {x: width / 2, y: height / 2, "text-anchor": "middle", class: "emp-tick"}, "Take an E-step: it fixes q, the posterior at θ(t)."));
      els.boundText.textContent = "The bound needs q: take an E-step.";
    } else {
      if (s.boundMean === null || s.boundMean === undefined) s.boundMean = s.qParams.means[s.boundK];
      els.boundSlider.value = String(s.boundMean);
      var grid = [], i;
      for (i = 0; i <= 120; i++) grid.push(lo + (hi - lo) * i / 120);
      var values = grid.map(function (v) { return boundAt(s.boundK, v); });
      var muT = s.qParams.means[s.boundK], atT = boundAt(s.boundK, muT), here = boundAt(s.boundK, s.boundMean);
      var gammaSum = 0, weighted = 0;
      s.q.forEach(function (g, j) { gammaSum += g[s.boundK]; weighted += g[s.boundK] * s.x[j]; });
      var best = boundAt(s.boundK, weighted / gammaSum);  // the bound's top: the M-step's μ_k (eq-m-means)
      var yTop = Math.max(atT.logLikelihood, best.logLikelihood, here.logLikelihood);
      var lows = values.map(function (v) { return v.bound; }).concat([here.bound]).sort(function (a, b) { return a - b; });
      var yLow = Math.min(lows[Math.floor(lows.length * 0.35)], here.bound, atT.logLikelihood - (yTop - atT.logLikelihood) - 1);
      var yr = [yLow - (yTop - yLow) * 0.05, yTop + (yTop - yLow) * 0.08];
      var sx = function (v) { return m.left + (v - lo) / (hi - lo) * (width - m.left - m.right); };
      var sy = function (v) { return Math.max(m.top - 5, Math.min(height - m.bottom, height - m.bottom - (v - yr[0]) / (yr[1] - yr[0]) * (height - m.top - m.bottom))); };
      out.push(h("line", {x1: m.left, x2: width - m.right, y1: height - m.bottom, y2: height - m.bottom, stroke: "currentColor"}));
      out.push(h("line", {x1: m.left, x2: m.left, y1: m.top, y2: height - m.bottom, stroke: "currentColor"}));
      ticks(yr[0], yr[1], 4).forEach(function (v) { out.push(h("text", {x: m.left - 6, y: sy(v) + 4, "text-anchor": "end", class: "emp-tick"}, fmt(v, 0))); });
      ticks(lo, hi, width < 400 ? 4 : 6).forEach(function (v) { out.push(h("text", {x: sx(v), y: height - m.bottom + 16, "text-anchor": "middle", class: "emp-tick"}, String(v))); });
      out.push(h("text", {x: (m.left + width) / 2, y: height - 4, "text-anchor": "middle", class: "emp-axis"}, "μ" + (s.boundK + 1) + ", the others fixed at θ(t)"));
      var line = function (key, colour, dash) {
        out.push(h("path", {d: values.map(function (v, j) { return (j ? "L" : "M") + sx(grid[j]).toFixed(1) + " " + sy(v[key]).toFixed(1); }).join(""),
                            fill: "none", stroke: colour, "stroke-width": 2, "stroke-dasharray": dash || ""}));
      };
      line("logLikelihood", "currentColor");
      line("bound", COLOURS[1], "6 3");
      out.push(h("line", {x1: sx(here.mean), x2: sx(here.mean), y1: sy(here.bound), y2: sy(here.logLikelihood), stroke: COLOURS[2], "stroke-width": 4}));
      out.push(h("circle", {cx: sx(muT), cy: sy(atT.logLikelihood), r: 5, fill: COLOURS[0]}));
      out.push(h("rect", {x: sx(best.mean) - 4, y: sy(best.bound) - 4, width: 8, height: 8, fill: COLOURS[1]}));
      els.boundText.textContent = "At μ" + (s.boundK + 1) + " = " + fmt(here.mean, 2) + ": log p(X | θ) = " + fmt(here.logLikelihood, 3) +
        ", bound L(q, θ) = " + fmt(here.bound, 3) + ", gap = KL(q ‖ p(Z | X, θ)) = " + fmtGap(here) +
        ". The bound touches at θ(t), μ" + (s.boundK + 1) + " = " + fmt(muT, 2) + " (gap " + fmtGap(atT) +
        "); its top is the M-step's μ" + (s.boundK + 1) + " = " + fmt(best.mean, 2) + ".";
    }
    els.bound.setAttribute("viewBox", "0 0 " + width + " " + height);
    els.bound.setAttribute("width", width); els.bound.setAttribute("height", height);
    els.bound.innerHTML = out.join("");
  }

  // ---------------------------------------------------------------- the parameters table and the controls
  function drawTable() {
    var two = EM.is2d(s.x), rows = s.params.weights.map(function (w, k) {
      var mu = s.params.means[k], c = s.params.covariances[k];
      var labelled = s.labels.filter(function (l) { return l === k; }).length;
      return "<tr>" + h("th", {scope: "row"}, h("span", {class: "emp-swatch", style: "background:" + COLOURS[k]}, "") + " " + (k + 1)) +
        h("td", {}, fmt(w, 3)) + h("td", {}, two ? fmt(mu[0], 3) + ", " + fmt(mu[1], 2) : fmt(mu, 2)) +
        h("td", {}, two ? fmt(c[0][0], 3) + ", " + fmt(c[0][1], 3) + ", " + fmt(c[1][1], 2) : fmt(c, 2)) + h("td", {}, String(labelled)) + "</tr>";
    }).join("");
    els.table.innerHTML = h("caption", {}, "θ(" + s.iteration + ")" + (s.phase === "after-M" ? ", after the M-step (colours are still q from θ(" + (s.iteration - 1) + "))" : s.phase === "after-E" ? ", after the E-step" : ", the start: " + s.startName)) +
      "<thead><tr>" + h("th", {scope: "col"}, "k") + h("th", {scope: "col"}, "π_k") + h("th", {scope: "col"}, "μ_k") +
      h("th", {scope: "col"}, two ? "Σ_k (11, 12, 22)" : "σ_k²") + h("th", {scope: "col"}, "labelled") + "</tr></thead><tbody>" + rows + "</tbody>";
  }

  function render() {
    els.dataset.value = s.dataset;
    els.K.value = String(s.params.weights.length);
    els.seed.value = String(s.seed);
    if (document.activeElement !== els.means) {
      els.means.value = (s.params0 || s.params).means.map(function (mu) {
        return Array.isArray(mu) ? mu.map(function (v) { return +v.toFixed(3); }).join(" ") : String(+mu.toFixed(3));
      }).join("; ");
    }
    els.recorded.hidden = !s.recorded;
    els.labelClass.innerHTML = s.params.weights.map(function (w, k) { return h("option", {value: k}, "component " + (k + 1)); }).join("");
    els.labelClass.value = String(Math.min(+(els.labelClass.dataset.chosen || 0), s.params.weights.length - 1));
    els.run.textContent = s.running ? "Stop" : "Run to convergence";
    els.status.textContent = s.message;
    els.points.textContent = s.x.length + " points, " + s.labels.filter(function (l) { return l >= 0; }).length + " labelled" +
      (labelsOrNull() ? " (semi-supervised EM: labelled points keep their component)" : "") + "; reg_covar = " + s.regCovar.toExponential() + ".";
    drawPlot(); drawTrace(); drawBound(); drawTable();
  }

  // ---------------------------------------------------------------- editing the data and the start
  function dataChanged(text) {
    // new data (or labels): the current θ becomes the new start, the trace starts again
    startFrom(s.params, s.startName);
    say(text);
  }

  function nearestPoint(px, py) {
    var g = geometry, best = -1, bestDistance = Infinity;
    s.x.forEach(function (p, i) {
      var xy = pointPosition(g, i), d = g.two || py > g.histBottom ? Math.hypot(xy[0] - px, xy[1] - py) : Math.abs(xy[0] - px);
      if (d < bestDistance) { bestDistance = d; best = i; }
    });
    return bestDistance <= 24 ? best : -1;
  }

  function round(v, step) { return Math.round(v / step) * step; }

  function addPoint(point) {
    var step = DATASETS[s.dataset].roundTo;
    s.x.push(EM.is2d(s.x) ? [+round(point[0], step).toFixed(2), +round(point[1], 0.1).toFixed(1)] : +round(point[0], step).toFixed(2));
    s.labels.push(-1);
    dataChanged("Added a point at " + String(s.x[s.x.length - 1]) + ".");
  }

  function removePoint(i) {
    if (i < 0) { say("No point near there to remove."); return; }
    if (s.x.length <= s.params.weights.length) { say("Keep at least one point per component."); return; }
    var removed = s.x.splice(i, 1); s.labels.splice(i, 1);
    dataChanged("Removed the point at " + String(removed[0]) + ".");
  }

  function labelPoint(i, k, toggle) {
    if (i < 0) { say("No point near there to label."); return; }
    var next = toggle && s.labels[i] === k ? -1 : k;
    s.labels[i] = next;
    dataChanged(next < 0 ? "Point " + String(s.x[i]) + " is unlabelled again." : "Point " + String(s.x[i]) + " is labelled component " + (k + 1) + ".");
  }

  function moveMean(k, point) {
    var means = clone(s.params0 || s.params).means;
    if (k >= means.length) return;
    means[k] = EM.is2d(s.x) ? [point[0], point[1]] : point[0];
    startFrom(withMeans(s.x, means), "means placed by hand");
  }

  function setK(K) {
    K = Math.max(1, Math.min(5, K | 0));
    var dropped = 0;
    s.labels = s.labels.map(function (l) { if (l >= K) { dropped++; return -1; } return l; });
    startFrom(defaultStart(s.x, K), "spread over the data");
    say("K = " + K + (dropped ? "; " + dropped + " labels of removed components dropped." : "."));
  }

  function mode() { return root.querySelector('input[name="emp-mode"]:checked').value; }

  function pointerData(event) {
    var r = els.plot.getBoundingClientRect(), px = (event.clientX - r.left) * geometry.width / r.width, py = (event.clientY - r.top) * geometry.height / r.height;
    return {px: px, py: py, point: [geometry.ix(px), geometry.two ? geometry.iy(py) : null]};
  }

  var dragging = null;

  function wirePlot() {
    els.plot.addEventListener("pointerdown", function (event) {
      var handle = event.target.closest && event.target.closest(".emp-handle");
      var at = pointerData(event);
      if (handle || mode() === "drag") {
        var k = handle ? +handle.getAttribute("data-k") : nearestMean(at);
        if (k < 0) return;
        dragging = k; els.plot.setPointerCapture(event.pointerId); event.preventDefault();
        return;
      }
      if (mode() === "add") addPoint(at.point);
      else if (mode() === "remove") removePoint(nearestPoint(at.px, at.py));
      else if (mode() === "label") labelPoint(nearestPoint(at.px, at.py), +els.labelClass.value, true);
      render();
    });
    els.plot.addEventListener("pointermove", function (event) {
      if (dragging === null) return;
      var at = pointerData(event);
      moveMean(dragging, at.point);
      render();
    });
    var end = function () {
      if (dragging !== null) { say("Mean " + (dragging + 1) + " placed: a new start θ(0). Take an E-step."); dragging = null; render(); }
    };
    els.plot.addEventListener("pointerup", end);
    els.plot.addEventListener("pointercancel", end);
    els.plot.addEventListener("keydown", onPlotKey);
  }

  function nearestMean(at) {
    var g = geometry, best = -1, bestDistance = 40;
    s.params.means.forEach(function (mu, k) {
      var d = g.two ? Math.hypot(g.sx(mu[0]) - at.px, g.sy(mu[1]) - at.py) : Math.abs(g.sx(mu) - at.px);
      if (d < bestDistance) { bestDistance = d; best = k; }
    });
    return best;
  }

  function onPlotKey(event) {
    var g = geometry, two = g.two;
    if (!s.cursor) s.cursor = two ? [(g.xr[0] + g.xr[1]) / 2, (g.yr[0] + g.yr[1]) / 2] : [(g.xr[0] + g.xr[1]) / 2];
    var fraction = event.shiftKey ? 0.1 : 0.01, key = event.key, handled = true;
    var cursorAt = function () { return two ? [g.sx(s.cursor[0]), g.sy(s.cursor[1])] : [g.sx(s.cursor[0]), g.stripTop + 26]; };
    if (key === "ArrowLeft") s.cursor[0] -= fraction * (g.xr[1] - g.xr[0]);
    else if (key === "ArrowRight") s.cursor[0] += fraction * (g.xr[1] - g.xr[0]);
    else if (two && key === "ArrowUp") s.cursor[1] += fraction * (g.yr[1] - g.yr[0]);
    else if (two && key === "ArrowDown") s.cursor[1] -= fraction * (g.yr[1] - g.yr[0]);
    else if (key === "Enter" || key === "a") addPoint(s.cursor);
    else if (key === "Delete" || key === "Backspace" || key === "x") { var c = cursorAt(); removePoint(nearestPoint(c[0], c[1])); }
    else if (key === "l") { var c2 = cursorAt(); labelPoint(nearestPoint(c2[0], c2[1]), +els.labelClass.value, false); }
    else if (key === "u") { var c3 = cursorAt(), i = nearestPoint(c3[0], c3[1]); if (i >= 0 && s.labels[i] >= 0) labelPoint(i, s.labels[i], true); }
    else if (/^[1-5]$/.test(key)) { moveMean(+key - 1, s.cursor); say("Mean " + key + " moved to the cursor: a new start θ(0)."); }
    else handled = false;
    if (!handled) return;
    event.preventDefault();
    if (/^Arrow/.test(key)) say("Cursor at " + s.cursor.map(function (v) { return fmt(v, 2); }).join(", ") + ".");
    render();
  }

  function guarded(action) {
    return function () {
      try { action(); } catch (error) { stopRun(); say("EM stopped: " + error.message); }
      render();
    };
  }

  function wireControls() {
    els.dataset.addEventListener("change", function () {
      var K = s.params.weights.length;
      s = freshState(els.dataset.value);
      startFrom(defaultStart(s.x, K), "spread over the data");
      say("Data: " + DATASETS[s.dataset].name + ".");
      render();
    });
    els.K.addEventListener("change", function () { setK(+els.K.value); render(); });
    els.seed.addEventListener("change", function () { s.seed = Math.max(0, parseInt(els.seed.value, 10) || 0); });
    els.setMeans.addEventListener("click", function () {
      var two = EM.is2d(s.x), parts = els.means.value.split(";").map(function (part) {
        return part.trim().split(/[\s,]+/).filter(Boolean).map(Number);
      }).filter(function (numbers) { return numbers.length; });
      var ok = parts.length >= 1 && parts.length <= 5 && parts.every(function (numbers) {
        return numbers.length === (two ? 2 : 1) && numbers.every(isFinite);
      });
      if (!ok) { say("Could not read the means: give 1 to 5 of them, separated by semicolons" + (two ? ", each as two numbers." : ".")); render(); return; }
      startFrom(withMeans(s.x, parts.map(function (numbers) { return two ? numbers : numbers[0]; })), "means typed in");
      say("Start from the means you typed: " + els.means.value + ".");
      render();
    });
    els.logScale.addEventListener("change", function () { drawTrace(); });
    els.random.addEventListener("click", function () {
      s.seed = Math.max(0, parseInt(els.seed.value, 10) || 0);
      startFrom(randomStart(s.x, s.params.weights.length, s.seed), "random, seed " + s.seed);
      say("Random start with seed " + s.seed + ": " + s.params.weights.length + " data points as means.");
      render();
    });
    els.spread.addEventListener("click", function () { setK(s.params.weights.length); render(); });
    els.eStep.addEventListener("click", guarded(function () { var ll = doEStep(); say("E-step at θ(" + s.iteration + "): points coloured by their responsibilities; log-likelihood " + fmt(ll, 4) + "."); }));
    els.mStep.addEventListener("click", guarded(function () {
      if (!doMStep()) { say("The M-step needs the responsibilities of θ(" + s.iteration + "): take an E-step first."); return; }
      say("M-step: θ(" + s.iteration + ") maximises Q; the curves moved. The colours are still the old q: take an E-step.");
    }));
    els.iterate.addEventListener("click", guarded(function () { var ll = doIteration(); say("Iteration " + s.iteration + ": log-likelihood " + fmt(ll, 4) + "."); }));
    els.run.addEventListener("click", function () { runToConvergence(); });
    els.reset.addEventListener("click", function () { startFrom(s.params0, s.startName); say("Back to the start θ(0)."); render(); });
    els.restore.addEventListener("click", function () {
      var data = originalData(s.dataset);
      s.x = data.x; s.labels = data.x.map(function () { return -1; });
      setK(s.params.weights.length); say("The original data, no labels."); render();
    });
    els.recorded.addEventListener("click", function () {
      var data = originalData("register");
      s.x = data.x; s.labels = data.recorded.slice();
      setK(2); say("Edmond's recorded genders: " + s.labels.filter(function (l) { return l >= 0; }).length + " pupils labelled (1 = girl, 2 = boy).");
      render();
    });
    els.clearLabels.addEventListener("click", function () { s.labels = s.labels.map(function () { return -1; }); dataChanged("Labels cleared."); render(); });
    els.labelClass.addEventListener("change", function () { els.labelClass.dataset.chosen = els.labelClass.value; });
    els.boundK.addEventListener("change", function () { s.boundK = +els.boundK.value; s.boundMean = s.q ? s.qParams.means[s.boundK] : null; render(); });
    els.boundSlider.addEventListener("input", function () { s.boundMean = +els.boundSlider.value; drawBound(); });
    var resizeTimer = null;
    window.addEventListener("resize", function () { clearTimeout(resizeTimer); resizeTimer = setTimeout(render, 100); });
  }

  // ---------------------------------------------------------------- the page
  function build() {
    root.innerHTML =
      '<div class="emp-controls">' +
      '<fieldset><legend>Data and model</legend>' +
      '<label>Data set <select id="emp-dataset">' + Object.keys(DATASETS).map(function (k) { return h("option", {value: k}, DATASETS[k].name); }).join("") + "</select></label> " +
      '<label>Components K <select id="emp-k">' + [1, 2, 3, 4, 5].map(function (k) { return h("option", {value: k}, String(k)); }).join("") + "</select></label> " +
      '<button type="button" id="emp-restore">Original data</button></fieldset>' +
      '<fieldset><legend>Start θ(0)</legend>' +
      '<button type="button" id="emp-spread">Means spread over the data</button> ' +
      '<label>Seed <input id="emp-seed" type="number" min="0" step="1" inputmode="numeric"></label> ' +
      '<button type="button" id="emp-random">Random start</button> ' +
      '<label>Means <input id="emp-means" type="text" spellcheck="false" aria-describedby="emp-means-hint"></label> ' +
      '<button type="button" id="emp-set-means">Start from these means</button>' +
      '<p class="emp-hint" id="emp-means-hint">Type the means separated by semicolons (2-D: "2.5 50; 2.5 60"), or drag a numbered mean on the plot; ' +
      'equal weights and the data\'s spread go with them.</p></fieldset>' +
      '<fieldset><legend>Steps</legend>' +
      '<button type="button" id="emp-e">E-step</button> <button type="button" id="emp-m">M-step</button> ' +
      '<button type="button" id="emp-iterate">One iteration</button> <button type="button" id="emp-run">Run to convergence</button> ' +
      '<button type="button" id="emp-reset">Reset</button></fieldset>' +
      '<fieldset><legend>Clicking on the plot</legend>' +
      ["drag:Drags a mean", "add:Adds a point", "remove:Removes a point", "label:Labels a point"].map(function (m, i) {
        var p = m.split(":");
        return '<label class="emp-radio"><input type="radio" name="emp-mode" value="' + p[0] + '"' + (i ? "" : " checked") + "> " + p[1] + "</label>";
      }).join(" ") +
      ' <label>as <select id="emp-label-class"></select></label> ' +
      '<button type="button" id="emp-recorded">Edmond\'s recorded genders</button> <button type="button" id="emp-clear-labels">Clear labels</button></fieldset>' +
      "</div>" +
      '<p class="emp-points" id="emp-points"></p>' +
      '<p class="emp-status" id="emp-status" role="status" aria-live="polite"></p>' +
      '<div class="emp-plot-box" id="emp-plot-box"><svg id="emp-plot" class="emp-svg" tabindex="0" role="application" aria-roledescription="EM plot" ' +
      'aria-label="The data and the mixture" aria-describedby="emp-legend emp-keys"></svg></div>' +
      '<p class="emp-hint" id="emp-legend"></p>' +
      '<p class="emp-hint" id="emp-keys">Keyboard, with the plot focused: arrow keys move a cursor (Shift: faster); Enter adds a point there, ' +
      'Delete removes the nearest, L labels it with the component chosen above, U unlabels it, 1 to 5 move that mean to the cursor.</p>' +
      '<table class="emp-table" id="emp-table"></table>' +
      '<div class="emp-panels">' +
      '<section class="emp-panel" aria-labelledby="emp-trace-title"><h3 id="emp-trace-title">The log-likelihood, iteration by iteration</h3>' +
      '<label class="emp-radio"><input type="checkbox" id="emp-log-scale"> Distance to the latest value, log scale</label>' +
      '<div id="emp-trace-box"><svg id="emp-trace" class="emp-svg" role="img" aria-labelledby="emp-trace-title emp-trace-text"></svg></div>' +
      '<p class="emp-hint" id="emp-trace-text"></p></section>' +
      '<section class="emp-panel" id="emp-bound-section" aria-labelledby="emp-bound-title"><h3 id="emp-bound-title">The bound of chapter 4 (Fig. 4.2)</h3>' +
      '<p class="emp-hint">Solid line: log p(X | θ); blue dashes: L(q, θ) with q the posterior at θ(t); red dot: they touch at θ(t); blue square: the bound\'s top, the M-step; green bar: the gap, KL.</p>' +
      '<label>Move <select id="emp-bound-k"></select></label> <label>to <input id="emp-bound-slider" type="range"></label>' +
      '<div id="emp-bound-box"><svg id="emp-bound" class="emp-svg" role="img" aria-labelledby="emp-bound-title emp-bound-text"></svg></div>' +
      '<p class="emp-hint" id="emp-bound-text" aria-live="polite"></p></section></div>';
    var ids = {dataset: "emp-dataset", K: "emp-k", restore: "emp-restore", spread: "emp-spread", seed: "emp-seed", random: "emp-random", means: "emp-means", setMeans: "emp-set-means", logScale: "emp-log-scale",
               eStep: "emp-e", mStep: "emp-m", iterate: "emp-iterate", run: "emp-run", reset: "emp-reset", labelClass: "emp-label-class",
               recorded: "emp-recorded", clearLabels: "emp-clear-labels", points: "emp-points", status: "emp-status",
               plotBox: "emp-plot-box", plot: "emp-plot", legend: "emp-legend", table: "emp-table", traceBox: "emp-trace-box", trace: "emp-trace",
               traceText: "emp-trace-text", boundSection: "emp-bound-section", boundK: "emp-bound-k", boundSlider: "emp-bound-slider",
               boundBox: "emp-bound-box", bound: "emp-bound", boundText: "emp-bound-text"};
    Object.keys(ids).forEach(function (k) { els[k] = document.getElementById(ids[k]); });
  }

  function state() {
    return JSON.parse(JSON.stringify({dataset: s.dataset, x: s.x, labels: s.labels, K: s.params.weights.length, regCovar: s.regCovar,
      params0: s.params0, params: s.params, responsibilities: s.q, logLikelihoods: s.trace, iteration: s.iteration, phase: s.phase,
      startName: s.startName, seed: s.seed}));
  }

  function setState(options) {
    stopRun();
    if (options.dataset) s = freshState(options.dataset);
    if (options.x) { s.x = options.x.slice(); s.labels = s.x.map(function () { return -1; }); s.recorded = null; if (!options.dataset) s.dataset = "custom"; }
    if (options.labels) s.labels = options.labels.slice();
    if (options.regCovar !== undefined) s.regCovar = options.regCovar;
    if (options.seed !== undefined) s.seed = options.seed;
    var K = options.K || (options.params ? options.params.weights.length : s.params ? s.params.weights.length : 2);
    startFrom(options.params ? options.params : options.random ? randomStart(s.x, K, s.seed) : defaultStart(s.x, K),
              options.params ? "set by script" : options.random ? "random, seed " + s.seed : "spread over the data");
    render();
    return state();
  }

  function init() {
    root = document.getElementById("em-playground");
    if (!root || !EM || !DATA) return;
    s = freshState("register");
    startFrom(defaultStart(s.x, 2), "spread over the data");
    build(); wireControls(); wirePlot();
    DATASETS.custom = {name: "Points set by script", axis: ["x", "y"], roundTo: 0.01};
    say("Ready: Edmond's heights, K = 2. Take an E-step.");
    render();
    window.emPlayground = {
      setState: setState, state: state,
      eStep: function () { doEStep(); render(); return state(); },
      mStep: function () { doMStep(); render(); return state(); },
      step: function (n) { for (var i = 0; i < (n === undefined ? 1 : n); i++) doIteration(); render(); return state(); },
      boundAt: boundAt, numerics: EM
    };
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();

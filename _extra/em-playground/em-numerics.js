/* The numerics of the EM playground: EM for a Gaussian mixture in 1-D and 2-D, as in emlib.gmm.
 *
 * Each function names the chapter equation it implements. Data: 1-D, an array of numbers;
 * 2-D, an array of [x, y] pairs. Parameters θ = {weights: [K], means: [K] or [K][2],
 * covariances: [K] (variances) or [K][2][2]}. Labels: -1 for a point without a label, else
 * its component (semi-supervised, chapter 5). tests/test_playground.py checks these functions,
 * run in Chromium, against emlib.fit_gmm to 1e-9.
 */
(function (root) {
  "use strict";
  var LOG_2PI = Math.log(2 * Math.PI);
  // emlib.gmm.EMPTY_COMPONENT_FLOOR: added to every N_k so an empty component keeps a weight.
  var EMPTY_COMPONENT_FLOOR = 10 * Math.pow(2, -52);

  function is2d(x) { return x.length > 0 && Array.isArray(x[0]); }

  /* log N(x | μ, σ²), chapter 2, eq-gaussian (1-D). */
  function logGaussian1d(x, mean, variance) {
    var d = x - mean;
    return -0.5 * (LOG_2PI + Math.log(variance)) - 0.5 * d * d / variance;
  }

  /* log N(x | μ, Σ), chapter 2, eq-gaussian (2-D), through the Cholesky factor Σ = L Lᵀ. */
  function logGaussian2d(point, mean, cov) {
    var l11 = Math.sqrt(cov[0][0]), l21 = cov[1][0] / l11;
    var l22 = Math.sqrt(cov[1][1] - l21 * l21);
    var w1 = (point[0] - mean[0]) / l11;                  // L⁻¹ (x − μ), first coordinate
    var w2 = ((point[1] - mean[1]) - l21 * w1) / l22;     // second coordinate
    return -0.5 * (w1 * w1 + w2 * w2) - 0.5 * (2 * LOG_2PI + 2 * (Math.log(l11) + Math.log(l22)));
  }

  /* log p(x_i, z_i = k | θ) = log π_k + log N(x_i | μ_k, Σ_k), chapter 2, eq-joint: (n, K). */
  function logJoint(x, params) {
    var two = is2d(x), K = params.weights.length;
    return x.map(function (xi) {
      var row = new Array(K);
      for (var k = 0; k < K; k++) {
        row[k] = Math.log(params.weights[k]) + (two
          ? logGaussian2d(xi, params.means[k], params.covariances[k])
          : logGaussian1d(xi, params.means[k], params.covariances[k]));
      }
      return row;
    });
  }

  /* log Σ_k exp(a_k) = m + log Σ_k exp(a_k − m), m = max_k a_k: chapter 3, eq-log-sum-exp. */
  function logSumExp(values) {
    var largest = Math.max.apply(null, values), sum = 0;
    for (var k = 0; k < values.length; k++) sum += Math.exp(values[k] - largest);
    return largest + Math.log(sum);
  }

  /* The E-step, chapter 3, eq-responsibility in log space (eq-log-responsibility):
   * γ_ik = exp(log π_k N(x_i|k) − log Σ_j π_j N(x_i|j)). A labelled point has a one-hot row
   * (chapter 5, eq-ch5-one-hot) and adds log π_z N(x_i|z) to the log-likelihood
   * (chapter 5, eq-semi-loglik); the others add log Σ_k π_k N(x_i|k) (chapter 2, eq-loglik). */
  function eStep(x, params, labels) {
    var joint = logJoint(x, params), logLikelihood = 0, K = params.weights.length;
    var responsibilities = joint.map(function (row, i) {
      var label = labels ? labels[i] : -1, gamma = new Array(K), k;
      if (label >= 0) {
        for (k = 0; k < K; k++) gamma[k] = k === label ? 1 : 0;
        logLikelihood += row[label];
        return gamma;
      }
      var logMarginal = logSumExp(row);
      for (k = 0; k < K; k++) gamma[k] = Math.exp(row[k] - logMarginal);
      logLikelihood += logMarginal;
      return gamma;
    });
    if (!isFinite(logLikelihood)) throw new Error("a point is too far from every component (or a component collapsed)");
    return {responsibilities: responsibilities, logLikelihood: logLikelihood};
  }

  /* The observed-data log-likelihood log p(X | θ), chapter 2, eq-loglik (chapter 5 with labels). */
  function logLikelihood(x, params, labels) { return eStep(x, params, labels).logLikelihood; }

  /* The 2x2 symmetric eigen-decomposition, for the floor on the eigenvalues below. */
  function eigen2(c) {
    var a = c[0][0], b = c[0][1], d = c[1][1];
    var half = (a - d) / 2, r = Math.hypot(half, b), mid = (a + d) / 2;
    var lambda1 = mid - r, lambda2 = mid + r;              // ascending, as numpy.linalg.eigh
    var angle = 0.5 * Math.atan2(2 * b, a - d);            // direction of the larger eigenvalue
    var v2 = [Math.cos(angle), Math.sin(angle)], v1 = [-v2[1], v2[0]];
    return {values: [lambda1, lambda2], vectors: [v1, v2]};
  }

  /* emlib's reg_covar floor (emlib.gmm._floor_eigenvalues): every eigenvalue of Σ_k below the
   * floor is raised to it; the exact maximiser of Q over such covariances (chapter 6). */
  function floorEigenvalues(c, floor) {
    if (floor === 0) return c;
    var e = eigen2(c);
    if (e.values[0] >= floor && e.values[1] >= floor) return c;
    var out = [[0, 0], [0, 0]];
    for (var j = 0; j < 2; j++) {
      var value = Math.max(e.values[j], floor), v = e.vectors[j];
      out[0][0] += value * v[0] * v[0]; out[0][1] += value * v[0] * v[1];
      out[1][0] += value * v[1] * v[0]; out[1][1] += value * v[1] * v[1];
    }
    var offDiagonal = (out[0][1] + out[1][0]) / 2;
    return [[out[0][0], offDiagonal], [offDiagonal, out[1][1]]];
  }

  /* The M-step, chapter 3: with N_k = Σ_i γ_ik,
   *   π_k = N_k / n (eq-m-weights),  μ_k = Σ_i γ_ik x_i / N_k (eq-m-means),
   *   σ_k² = Σ_i γ_ik (x_i − μ_k)² / N_k (eq-m-variances),
   *   Σ_k = Σ_i γ_ik (x_i − μ_k)(x_i − μ_k)ᵀ / N_k (eq-m-covariances), centred on μ_k;
   * then every variance (2-D: every eigenvalue) below regCovar is raised to it, as emlib does. */
  function mStep(x, responsibilities, regCovar) {
    var two = is2d(x), K = responsibilities[0].length, n = x.length;
    var totals = [], weights = [], means = [], covariances = [], grand = 0, i, k;
    for (k = 0; k < K; k++) {
      var total = 0, s0 = 0, s1 = 0;
      for (i = 0; i < n; i++) {
        var g = responsibilities[i][k];
        total += g;
        if (two) { s0 += g * x[i][0]; s1 += g * x[i][1]; } else s0 += g * x[i];
      }
      total += EMPTY_COMPONENT_FLOOR;
      totals.push(total); grand += total;
      var mean = two ? [s0 / total, s1 / total] : s0 / total;
      var c00 = 0, c01 = 0, c11 = 0;
      for (i = 0; i < n; i++) {
        var gamma = responsibilities[i][k];
        var d0 = (two ? x[i][0] : x[i]) - (two ? mean[0] : mean);
        c00 += gamma * d0 * d0;
        if (two) { var d1 = x[i][1] - mean[1]; c01 += gamma * d0 * d1; c11 += gamma * d1 * d1; }
      }
      means.push(mean);
      covariances.push(two
        ? floorEigenvalues([[c00 / total, c01 / total], [c01 / total, c11 / total]], regCovar)
        : Math.max(c00 / total, regCovar));
    }
    for (k = 0; k < K; k++) weights.push(totals[k] / grand);
    return {weights: weights, means: means, covariances: covariances};
  }

  /* The evidence lower bound, chapter 4, eq-elbo (eq-ch4-elbo-mixture):
   *   L(q, θ) = Σ_i Σ_k q_ik (log π_k + log N(x_i | μ_k, Σ_k) − log q_ik), with 0 log 0 = 0.
   * log p(X | θ) − L(q, θ) = KL(q ‖ p(Z | X, θ)) ≥ 0 (eq-decomposition): zero when q is the
   * posterior at θ. (With labels, the labelled rows of q are one-hot, as in the E-step.) */
  function elbo(x, params, q) {
    var joint = logJoint(x, params), total = 0;
    for (var i = 0; i < x.length; i++) {
      for (var k = 0; k < q[i].length; k++) {
        if (q[i][k] > 0) total += q[i][k] * (joint[i][k] - Math.log(q[i][k]));
      }
    }
    return total;
  }

  /* One EM iteration as emlib.em does it: the M-step on the current responsibilities, then the
   * E-step at the new θ (chapter 3, eq-em-one-line). */
  function iterate(x, responsibilities, regCovar, labels) {
    var params = mStep(x, responsibilities, regCovar);
    var e = eStep(x, params, labels);
    return {params: params, responsibilities: e.responsibilities, logLikelihood: e.logLikelihood};
  }

  /* A small seeded generator (mulberry32) for "random start": the same seed, the same start. */
  function seededRandom(seed) {
    var a = seed >>> 0;
    return function () {
      a = (a + 0x6D2B79F5) >>> 0;
      var t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  /* The data's variance (1-D) or covariance matrix (2-D), centred: the default spread of a start. */
  function dataCovariance(x) {
    var n = x.length, two = is2d(x), m0 = 0, m1 = 0, i;
    for (i = 0; i < n; i++) { m0 += two ? x[i][0] : x[i]; if (two) m1 += x[i][1]; }
    m0 /= n; m1 /= n;
    var c00 = 0, c01 = 0, c11 = 0;
    for (i = 0; i < n; i++) {
      var d0 = (two ? x[i][0] : x[i]) - m0;
      c00 += d0 * d0;
      if (two) { var d1 = x[i][1] - m1; c01 += d0 * d1; c11 += d1 * d1; }
    }
    return two ? [[c00 / n, c01 / n], [c01 / n, c11 / n]] : c00 / n;
  }

  root.EMNumerics = {
    logGaussian1d: logGaussian1d, logGaussian2d: logGaussian2d, logJoint: logJoint,
    logSumExp: logSumExp, eStep: eStep, mStep: mStep, logLikelihood: logLikelihood, elbo: elbo,
    iterate: iterate, floorEigenvalues: floorEigenvalues, eigen2: eigen2,
    seededRandom: seededRandom, dataCovariance: dataCovariance, is2d: is2d
  };
})(typeof window !== "undefined" ? window : this);

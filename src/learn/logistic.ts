/**
 * Logistic regression with scikit-learn's objective, the intercept unpenalized:
 *   l2 (default):  sum(log loss) + ||w||² / (2C), by Newton's method (IRLS) with a Cholesky solve;
 *   l1:            sum(log loss) + ||w||₁ / C,
 *   elasticnet:    sum(log loss) + (1 − l1Ratio) ||w||² / (2C) + l1Ratio ||w||₁ / C,
 *                  both by accelerated proximal gradient (FISTA with backtracking and restarts),
 *                  which sets coefficients exactly to zero;
 *   none:          sum(log loss), by Newton.
 * Three or more classes (labels 0..K-1): multinomial (softmax) regression,
 *   sum(log loss of the softmax) + ||W||² / (2C)  (l2 or none), by L-BFGS; the unpenalized
 *   intercepts are centred to sum to zero, as scikit-learn's lbfgs leaves them.
 * classWeight ('balanced' or a map, scikit-learn's class_weight) weighs each row's log loss.
 * Coefficients match scikit-learn's (lbfgs for l2 and multinomial, saga run to convergence for
 * l1/elasticnet) on the fixtures in ./fixtures.
 */
import { z } from 'zod';
import { KeelError } from '../core/errors.js';
import {
  assertFitted,
  type ClassWeight,
  checkClasses,
  checkWidth,
  classWeights,
  mostProbable,
  probaMatrix,
  sigmoid,
} from './base.js';
import type { Classifier, FitOptions, Matrix } from './types.js';

export interface LogisticRegressionParams {
  /** Inverse regularization strength (sklearn's C). */
  C: number;
  fitIntercept: boolean;
  /** Newton iterations (l2, none); proximal-gradient runs get 100x as many steps. */
  maxIter: number;
  tol: number;
  penalty: 'l2' | 'l1' | 'elasticnet' | 'none';
  /** The L1 share of an elasticnet penalty, in [0, 1]. */
  l1Ratio: number;
  /** Class weights: 'balanced' (n / (K · class count)) or a weight per class label; null = unweighted. */
  classWeight: ClassWeight | null;
}

export const logisticDefaults: LogisticRegressionParams = {
  C: 1,
  fitIntercept: true,
  maxIter: 100,
  tol: 1e-8,
  penalty: 'l2',
  l1Ratio: 0.5,
  classWeight: null,
};

export class LogisticRegression implements Classifier {
  readonly kind = 'logistic_regression';
  readonly params: LogisticRegressionParams;
  /** Binary: one coefficient per feature. Multinomial: K × nFeatures, row-major (class k's row at k · nFeatures). */
  coef_ = new Float64Array(0);
  /** Binary intercept (0 for multinomial models: see intercepts_). */
  intercept_ = 0;
  /** Multinomial: one intercept per class (summing to zero); binary: [intercept_]. */
  intercepts_: Float64Array = new Float64Array(1);
  /** The number of classes (2 for binary). */
  nClasses_ = 2;
  nIter_ = 0;
  featureNames_: string[] = [];
  private fitted = false;

  constructor(params: Partial<LogisticRegressionParams> = {}) {
    this.params = { ...logisticDefaults, ...params };
  }

  getParams(): Record<string, unknown> {
    return { ...this.params };
  }

  fit(X: Matrix, y: Float64Array, _options: FitOptions = {}): this {
    const p = this.params;
    const K = checkClasses(X, y, 'LogisticRegression');
    if (!(p.C > 0)) throw new KeelError('KEEL_E_USAGE', `LogisticRegression: C must be > 0, got ${p.C}`);
    const n = X.nRows;
    const d = X.nCols;
    const D = d + (p.fitIntercept ? 1 : 0);
    for (let i = 0; i < X.data.length; i++)
      if (!Number.isFinite(X.data[i]))
        throw new KeelError(
          'KEEL_E_INPUT',
          `LogisticRegression: X has a missing or infinite value at row ${Math.floor(i / d) + 1}; impute first`,
        );
    const w = new Float64Array(D);
    const grad = new Float64Array(D);
    const H = new Float64Array(D * D);
    if (!['l2', 'l1', 'elasticnet', 'none'].includes(p.penalty))
      throw new KeelError(
        'KEEL_E_USAGE',
        `LogisticRegression: penalty must be l2, l1, elasticnet or none, got "${p.penalty}"`,
      );
    if (!(p.l1Ratio >= 0 && p.l1Ratio <= 1))
      throw new KeelError('KEEL_E_USAGE', `LogisticRegression: l1Ratio must be in [0, 1], got ${p.l1Ratio}`);
    const l1Share = p.penalty === 'l1' ? 1 : p.penalty === 'elasticnet' ? p.l1Ratio : 0;
    if (K > 2 && l1Share > 0)
      throw new KeelError(
        'KEEL_E_USAGE',
        `LogisticRegression: ${K} classes (multinomial) take penalty l2 or none, not ${p.penalty}`,
      );
    const cw = classWeights(p.classWeight, y, K, 'LogisticRegression');
    // per-row weights of the log loss (null: all 1, and the unweighted arithmetic exactly)
    const sw = cw ? Float64Array.from(y, (v) => cw[v]) : null;
    const alpha = p.penalty === 'none' ? 0 : (1 - l1Share) / p.C;
    // Rows as sparse lists of (column, value) with the intercept as column d: one-hot data is
    // mostly zeros, and the Hessian update costs (nonzeros per row)^2 instead of D^2.
    const rowPtr = new Int32Array(n + 1);
    let nnz = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) if (X.data[i * d + j] !== 0) nnz++;
      if (p.fitIntercept) nnz++;
      rowPtr[i + 1] = nnz;
    }
    const colIdx = new Int32Array(nnz);
    const vals = new Float64Array(nnz);
    for (let i = 0, k = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        const v = X.data[i * d + j];
        if (v !== 0) {
          colIdx[k] = j;
          vals[k++] = v;
        }
      }
      if (p.fitIntercept) {
        colIdx[k] = d;
        vals[k++] = 1;
      }
    }
    const margin = (ww: Float64Array, i: number) => {
      let z = 0;
      for (let k = rowPtr[i]; k < rowPtr[i + 1]; k++) z += ww[colIdx[k]] * vals[k];
      return z;
    };
    if (K > 2) {
      const W = new Float64Array(K * D);
      const iterations = fitMultinomial(
        W,
        K,
        n,
        d,
        D,
        y,
        sw,
        rowPtr,
        colIdx,
        vals,
        alpha,
        p.maxIter * 10,
        p.tol,
      );
      this.setMultinomial(W, K, d, D, p.fitIntercept, iterations, X);
      return this;
    }
    const objective = (ww: Float64Array) => {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const z = margin(ww, i);
        const l = z > 0 ? (1 - y[i]) * z + Math.log1p(Math.exp(-z)) : -y[i] * z + Math.log1p(Math.exp(z));
        s += sw ? sw[i] * l : l;
      }
      let r = 0;
      for (let j = 0; j < d; j++) r += ww[j] * ww[j];
      return s + (alpha * r) / 2;
    };
    if (l1Share > 0) {
      const beta = l1Share / p.C;
      const { iterations } = fitProximal(
        w,
        n,
        d,
        D,
        y,
        margin,
        rowPtr,
        colIdx,
        vals,
        alpha,
        beta,
        p.maxIter * 100,
        p.tol,
        sw,
      );
      this.setBinary(w, d, p.fitIntercept, iterations, X);
      return this;
    }
    let f = objective(w);
    let iter = 0;
    for (; iter < p.maxIter; iter++) {
      grad.fill(0);
      H.fill(0);
      for (let i = 0; i < n; i++) {
        const pr = sigmoid(margin(w, i));
        const r = sw ? sw[i] * (pr - y[i]) : pr - y[i];
        const s = sw ? sw[i] * Math.max(pr * (1 - pr), 1e-12) : Math.max(pr * (1 - pr), 1e-12);
        const k0 = rowPtr[i];
        const k1 = rowPtr[i + 1];
        for (let ka = k0; ka < k1; ka++) {
          const a = colIdx[ka];
          grad[a] += r * vals[ka];
          const sa = s * vals[ka];
          const rowA = a * D;
          // columns ascend within a row, so b <= a for kb <= ka: fill the lower triangle
          for (let kb = k0; kb <= ka; kb++) H[rowA + colIdx[kb]] += sa * vals[kb];
        }
      }
      for (let j = 0; j < d; j++) {
        grad[j] += alpha * w[j];
        H[j * D + j] += alpha;
      }
      for (let a = 0; a < D; a++) for (let b = 0; b < a; b++) H[b * D + a] = H[a * D + b];
      const step = choleskySolve(H, grad, D);
      // backtracking line search on the objective
      let t = 1;
      const wNew = new Float64Array(D);
      let fNew = f;
      for (let k = 0; k < 30; k++) {
        for (let j = 0; j < D; j++) wNew[j] = w[j] - t * step[j];
        fNew = objective(wNew);
        if (fNew <= f) break;
        t /= 2;
      }
      w.set(wNew);
      const improvement = f - fNew;
      f = fNew;
      let gmax = 0;
      for (let j = 0; j < D; j++) gmax = Math.max(gmax, Math.abs(grad[j]));
      if (improvement <= p.tol * Math.max(1, Math.abs(f)) || gmax < 1e-10) {
        iter++;
        break;
      }
    }
    this.setBinary(w, d, p.fitIntercept, iter, X);
    return this;
  }

  private setBinary(w: Float64Array, d: number, fitIntercept: boolean, iterations: number, X: Matrix): void {
    this.coef_ = w.slice(0, d);
    this.intercept_ = fitIntercept ? w[d] : 0;
    this.intercepts_ = Float64Array.of(this.intercept_);
    this.nClasses_ = 2;
    this.nIter_ = iterations;
    this.featureNames_ = [...X.names];
    this.fitted = true;
  }

  private setMultinomial(
    w: Float64Array,
    K: number,
    d: number,
    D: number,
    fitIntercept: boolean,
    iterations: number,
    X: Matrix,
  ): void {
    const coef = new Float64Array(K * d);
    const b = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      coef.set(w.subarray(k * D, k * D + d), k * d);
      if (fitIntercept) b[k] = w[k * D + d];
    }
    // the softmax is unchanged by a shift common to every class: centre the unpenalized
    // intercepts (and, unpenalized, the coefficients) to sum to zero, as scikit-learn's are
    let mb = 0;
    for (let k = 0; k < K; k++) mb += b[k] / K;
    for (let k = 0; k < K; k++) b[k] -= mb;
    if (this.params.penalty === 'none')
      for (let j = 0; j < d; j++) {
        let m = 0;
        for (let k = 0; k < K; k++) m += coef[k * d + j] / K;
        for (let k = 0; k < K; k++) coef[k * d + j] -= m;
      }
    this.coef_ = coef;
    this.intercepts_ = b;
    this.intercept_ = 0;
    this.nClasses_ = K;
    this.nIter_ = iterations;
    this.featureNames_ = [...X.names];
    this.fitted = true;
  }

  /** Binary: the log-odds per row. Multinomial: n × K class scores, row-major. A NaN input counts as 0. */
  decisionFunction(X: Matrix): Float64Array {
    assertFitted(this.fitted, 'LogisticRegression');
    const K = this.nClasses_ > 2 ? this.nClasses_ : 1;
    checkWidth(X, this.coef_.length / K, 'LogisticRegression');
    const d = X.nCols;
    const out = new Float64Array(X.nRows * K);
    for (let i = 0; i < X.nRows; i++) {
      for (let k = 0; k < K; k++) {
        let z = K === 1 ? this.intercept_ : this.intercepts_[k];
        const o = k * d;
        for (let j = 0; j < d; j++) {
          const v = X.data[i * d + j];
          z += this.coef_[o + j] * (Number.isNaN(v) ? 0 : v);
        }
        out[i * K + k] = z;
      }
    }
    return out;
  }

  /** Binary: P(y = 1) per row. Multinomial: n × K probabilities, row-major, each row summing to 1. */
  predictProba(X: Matrix): Float64Array {
    const z = this.decisionFunction(X);
    const K = this.nClasses_;
    if (K === 2) {
      for (let i = 0; i < z.length; i++) z[i] = sigmoid(z[i]);
      return z;
    }
    for (let i = 0; i < X.nRows; i++) softmaxInPlace(z, i * K, K);
    return z;
  }

  /** n × K class probabilities (binary too: [1 − p, p]); rows sum to 1. */
  predictProbaMatrix(X: Matrix): Matrix {
    return probaMatrix(this.predictProba(X), X.nRows, this.nClasses_);
  }

  /** The most probable class label per row. */
  predict(X: Matrix): Float64Array {
    return mostProbable(this.predictProbaMatrix(X));
  }

  toJSON(): unknown {
    assertFitted(this.fitted, 'LogisticRegression');
    // classWeight (added later) is written only when set: an unweighted model writes the document it always did
    const { classWeight, ...params } = this.params;
    return {
      params: classWeight === null ? params : this.params,
      state: {
        coef: Array.from(this.coef_),
        intercept: this.intercept_,
        nIter: this.nIter_,
        featureNames: this.featureNames_,
        ...(this.nClasses_ > 2 ? { nClasses: this.nClasses_, intercepts: Array.from(this.intercepts_) } : {}),
      },
    };
  }

  static fromJSON(doc: unknown): LogisticRegression {
    const d = LrJSON.parse(doc);
    const m = new LogisticRegression(d.params);
    m.coef_ = Float64Array.from(d.state.coef);
    m.intercept_ = d.state.intercept;
    m.nClasses_ = d.state.nClasses ?? 2;
    m.intercepts_ = d.state.intercepts
      ? Float64Array.from(d.state.intercepts)
      : Float64Array.of(m.intercept_);
    const K = m.nClasses_ > 2 ? m.nClasses_ : 1;
    if (
      m.coef_.length !== K * d.state.featureNames.length ||
      (K > 1 && m.intercepts_.length !== K) ||
      K > 1 !== (d.state.intercepts !== undefined)
    )
      throw new KeelError(
        'KEEL_E_MODEL_FORMAT',
        `a ${m.nClasses_}-class logistic regression needs ${K} × ${d.state.featureNames.length} coefficients${K > 1 ? ` and ${K} intercepts` : ''}`,
      );
    m.nIter_ = d.state.nIter;
    m.featureNames_ = d.state.featureNames;
    m.fitted = true;
    return m;
  }
}

const LrJSON = z.object({
  params: z.object({
    C: z.number().positive(),
    fitIntercept: z.boolean(),
    maxIter: z.number().int(),
    tol: z.number(),
    // absent in documents written before l1/elasticnet existed: l2
    penalty: z.enum(['l2', 'l1', 'elasticnet', 'none']).optional(),
    l1Ratio: z.number().min(0).max(1).optional(),
    // absent in documents written before class weights existed: unweighted
    classWeight: z
      .union([z.literal('balanced'), z.record(z.string(), z.number().positive()), z.null()])
      .default(null),
  }),
  state: z.object({
    coef: z.array(z.number()),
    intercept: z.number(),
    nIter: z.number().int(),
    featureNames: z.array(z.string()),
    nClasses: z.number().int().min(3).optional(),
    intercepts: z.array(z.number()).optional(),
  }),
});

/**
 * FISTA on  sum(log loss) + alpha ||w||² / 2 + beta ||w||₁  (the last coordinate, when D > d, is the
 * unpenalized intercept), in place on w. Backtracking finds the step; the momentum restarts when
 * the objective goes up (O'Donoghue and Candès). Stops when no coordinate moves by more than tol
 * (relative to the largest coefficient) over a step.
 */
function fitProximal(
  w: Float64Array,
  n: number,
  d: number,
  D: number,
  y: Float64Array,
  margin: (ww: Float64Array, i: number) => number,
  rowPtr: Int32Array,
  colIdx: Int32Array,
  vals: Float64Array,
  alpha: number,
  beta: number,
  maxSteps: number,
  tol: number,
  sw: Float64Array | null,
): { iterations: number } {
  const smooth = (ww: Float64Array, grad: Float64Array | null) => {
    let s = 0;
    grad?.fill(0);
    for (let i = 0; i < n; i++) {
      const z = margin(ww, i);
      const l = z > 0 ? (1 - y[i]) * z + Math.log1p(Math.exp(-z)) : -y[i] * z + Math.log1p(Math.exp(z));
      s += sw ? sw[i] * l : l;
      if (grad) {
        const r = sw ? sw[i] * (sigmoid(z) - y[i]) : sigmoid(z) - y[i];
        for (let k = rowPtr[i]; k < rowPtr[i + 1]; k++) grad[colIdx[k]] += r * vals[k];
      }
    }
    for (let j = 0; j < d; j++) {
      s += (alpha * ww[j] * ww[j]) / 2;
      if (grad) grad[j] += alpha * ww[j];
    }
    return s;
  };
  const l1 = (ww: Float64Array) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += Math.abs(ww[j]);
    return beta * s;
  };
  // a first step size from the curvature bound 0.25 max row norm² * n, refined by backtracking
  let maxRow = 0;
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let k = rowPtr[i]; k < rowPtr[i + 1]; k++) r += vals[k] * vals[k];
    maxRow = Math.max(maxRow, r);
  }
  let L = Math.max(1e-8, 0.25 * maxRow * n * 0.1 + alpha);
  const v = Float64Array.from(w); // the extrapolated point
  const gv = new Float64Array(D);
  const next = new Float64Array(D);
  const prev = Float64Array.from(w);
  let t = 1;
  let fPrev = smooth(w, null) + l1(w);
  let step = 0;
  for (; step < maxSteps; step++) {
    const fv = smooth(v, gv);
    // backtracking: next = prox(v − g/L) must satisfy the quadratic upper bound
    for (let k = 0; k < 60; k++) {
      let q = fv;
      for (let j = 0; j < D; j++) {
        const u = v[j] - gv[j] / L;
        const th = j < d ? beta / L : 0;
        next[j] = u > th ? u - th : u < -th ? u + th : 0;
        const dj = next[j] - v[j];
        q += gv[j] * dj + (L / 2) * dj * dj;
      }
      if (smooth(next, null) <= q + 1e-12 * Math.abs(q)) break;
      L *= 2;
    }
    const fNext = smooth(next, null) + l1(next);
    let moved = 0;
    let scale = 1;
    for (let j = 0; j < D; j++) {
      moved = Math.max(moved, Math.abs(next[j] - w[j]));
      scale = Math.max(scale, Math.abs(next[j]));
    }
    prev.set(w);
    w.set(next);
    if (fNext > fPrev) {
      t = 1; // restart the momentum
      v.set(w);
    } else {
      const tNext = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
      const m = (t - 1) / tNext;
      for (let j = 0; j < D; j++) v[j] = w[j] + m * (w[j] - prev[j]);
      t = tNext;
    }
    fPrev = fNext;
    if (moved <= tol * scale && step > 2) {
      step++;
      break;
    }
    L /= 1.1; // let the step grow back
  }
  return { iterations: step };
}

function softmaxInPlace(z: Float64Array, o: number, K: number): void {
  let mx = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < K; k++) if (z[o + k] > mx) mx = z[o + k];
  let s = 0;
  for (let k = 0; k < K; k++) {
    z[o + k] = Math.exp(z[o + k] - mx);
    s += z[o + k];
  }
  for (let k = 0; k < K; k++) z[o + k] /= s;
}

/**
 * Multinomial logistic regression by L-BFGS (10 pairs, backtracking Armijo line search), in place
 * on w (K blocks of D: class k's coefficients then, when D > d, its unpenalized intercept), from
 * zero. Objective: Σ sw_i (logsumexp(z_i) − z_{i,y_i}) + alpha ||W||² / 2. Stops when the largest
 * gradient entry is below tol · max(1, Σ sw) or the objective stops moving (relative tol²).
 */
function fitMultinomial(
  w: Float64Array,
  K: number,
  n: number,
  d: number,
  D: number,
  y: Float64Array,
  sw: Float64Array | null,
  rowPtr: Int32Array,
  colIdx: Int32Array,
  vals: Float64Array,
  alpha: number,
  maxIter: number,
  tol: number,
): number {
  const P = K * D;
  const z = new Float64Array(K);
  const evaluate = (ww: Float64Array, g: Float64Array): number => {
    g.fill(0);
    let f = 0;
    for (let i = 0; i < n; i++) {
      const k0 = rowPtr[i];
      const k1 = rowPtr[i + 1];
      let mx = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < K; k++) {
        let s = 0;
        const o = k * D;
        for (let q = k0; q < k1; q++) s += ww[o + colIdx[q]] * vals[q];
        z[k] = s;
        if (s > mx) mx = s;
      }
      let se = 0;
      for (let k = 0; k < K; k++) se += Math.exp(z[k] - mx);
      const wi = sw ? sw[i] : 1;
      const yi = y[i];
      f += wi * (Math.log(se) + mx - z[yi]);
      for (let k = 0; k < K; k++) {
        const r = wi * (Math.exp(z[k] - mx) / se - (k === yi ? 1 : 0));
        const o = k * D;
        for (let q = k0; q < k1; q++) g[o + colIdx[q]] += r * vals[q];
      }
    }
    for (let k = 0; k < K; k++)
      for (let j = 0; j < d; j++) {
        const v = ww[k * D + j];
        f += (alpha * v * v) / 2;
        g[k * D + j] += alpha * v;
      }
    return f;
  };
  let total = 0;
  for (let i = 0; i < n; i++) total += sw ? sw[i] : 1;
  const gtol = tol * Math.max(1, total);
  const M = 10;
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const g = new Float64Array(P);
  const gNew = new Float64Array(P);
  const dir = new Float64Array(P);
  const wNew = new Float64Array(P);
  const a = new Float64Array(M);
  let f = evaluate(w, g);
  let iter = 0;
  for (; iter < maxIter; iter++) {
    let gmax = 0;
    for (let j = 0; j < P; j++) gmax = Math.max(gmax, Math.abs(g[j]));
    if (gmax <= gtol) break;
    // two-loop recursion: dir = −H g
    for (let j = 0; j < P; j++) dir[j] = -g[j];
    for (let m = S.length - 1; m >= 0; m--) {
      let s = 0;
      for (let j = 0; j < P; j++) s += S[m][j] * dir[j];
      a[m] = rho[m] * s;
      for (let j = 0; j < P; j++) dir[j] -= a[m] * Y[m][j];
    }
    if (S.length > 0) {
      const last = S.length - 1;
      let sy = 0;
      let yy = 0;
      for (let j = 0; j < P; j++) {
        sy += S[last][j] * Y[last][j];
        yy += Y[last][j] * Y[last][j];
      }
      const gamma = sy / yy;
      for (let j = 0; j < P; j++) dir[j] *= gamma;
    } else {
      const scale = 1 / Math.max(1, gmax);
      for (let j = 0; j < P; j++) dir[j] *= scale;
    }
    for (let m = 0; m < S.length; m++) {
      let s = 0;
      for (let j = 0; j < P; j++) s += Y[m][j] * dir[j];
      const b = rho[m] * s;
      for (let j = 0; j < P; j++) dir[j] += (a[m] - b) * S[m][j];
    }
    let slope = 0;
    for (let j = 0; j < P; j++) slope += g[j] * dir[j];
    if (!(slope < 0)) {
      // not a descent direction (numerical trouble): restart from steepest descent
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      for (let j = 0; j < P; j++) dir[j] = -g[j] / Math.max(1, gmax);
      slope = 0;
      for (let j = 0; j < P; j++) slope += g[j] * dir[j];
    }
    let t = 1;
    let fNew = f;
    let accepted = false;
    for (let k = 0; k < 50; k++) {
      for (let j = 0; j < P; j++) wNew[j] = w[j] + t * dir[j];
      fNew = evaluate(wNew, gNew);
      if (fNew <= f + 1e-4 * t * slope) {
        accepted = true;
        break;
      }
      t /= 2;
    }
    if (!accepted) break;
    const s = new Float64Array(P);
    const yv = new Float64Array(P);
    let sy = 0;
    for (let j = 0; j < P; j++) {
      s[j] = wNew[j] - w[j];
      yv[j] = gNew[j] - g[j];
      sy += s[j] * yv[j];
    }
    w.set(wNew);
    g.set(gNew);
    const moved = f - fNew;
    f = fNew;
    if (sy > 1e-12) {
      if (S.length === M) {
        S.shift();
        Y.shift();
        rho.shift();
      }
      S.push(s);
      Y.push(yv);
      rho.push(1 / sy);
    }
    if (moved <= tol * tol * Math.max(1, Math.abs(f)) && moved >= 0 && iter > 0) {
      iter++;
      break;
    }
  }
  return iter;
}

/** Solve A x = b for symmetric positive definite A (row-major D x D); adds jitter if needed. */
function choleskySolve(A: Float64Array, b: Float64Array, D: number): Float64Array {
  for (let jitter = 0; jitter < 8; jitter++) {
    const L = new Float64Array(D * D);
    let ok = true;
    const eps = jitter === 0 ? 0 : 1e-10 * 10 ** jitter;
    for (let i = 0; i < D && ok; i++) {
      for (let j = 0; j <= i; j++) {
        let s = A[i * D + j] + (i === j ? eps : 0);
        for (let k = 0; k < j; k++) s -= L[i * D + k] * L[j * D + k];
        if (i === j) {
          if (s <= 0) {
            ok = false;
            break;
          }
          L[i * D + i] = Math.sqrt(s);
        } else L[i * D + j] = s / L[j * D + j];
      }
    }
    if (!ok) continue;
    const z = new Float64Array(D);
    for (let i = 0; i < D; i++) {
      let s = b[i];
      for (let k = 0; k < i; k++) s -= L[i * D + k] * z[k];
      z[i] = s / L[i * D + i];
    }
    const x = new Float64Array(D);
    for (let i = D - 1; i >= 0; i--) {
      let s = z[i];
      for (let k = i + 1; k < D; k++) s -= L[k * D + i] * x[k];
      x[i] = s / L[i * D + i];
    }
    return x;
  }
  throw new KeelError('KEEL_E_INTERNAL', 'LogisticRegression: the Hessian is not positive definite');
}

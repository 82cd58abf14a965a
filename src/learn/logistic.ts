/**
 * Logistic regression with scikit-learn's objective, the intercept unpenalized:
 *   l2 (default):  sum(log loss) + ||w||² / (2C), by Newton's method (IRLS) with a Cholesky solve;
 *   l1:            sum(log loss) + ||w||₁ / C,
 *   elasticnet:    sum(log loss) + (1 − l1Ratio) ||w||² / (2C) + l1Ratio ||w||₁ / C,
 *                  both by accelerated proximal gradient (FISTA with backtracking and restarts),
 *                  which sets coefficients exactly to zero;
 *   none:          sum(log loss), by Newton.
 * Coefficients match scikit-learn's (lbfgs for l2, saga run to convergence for l1/elasticnet) on
 * the fixtures in ./fixtures.
 */
import { z } from 'zod';
import { KeelError } from '../core/errors.js';
import { assertFitted, checkWidth, checkXy, sigmoid } from './base.js';
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
}

export const logisticDefaults: LogisticRegressionParams = {
  C: 1,
  fitIntercept: true,
  maxIter: 100,
  tol: 1e-8,
  penalty: 'l2',
  l1Ratio: 0.5,
};

export class LogisticRegression implements Classifier {
  readonly kind = 'logistic_regression';
  readonly params: LogisticRegressionParams;
  coef_ = new Float64Array(0);
  intercept_ = 0;
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
    checkXy(X, y, 'LogisticRegression');
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
    const objective = (ww: Float64Array) => {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const z = margin(ww, i);
        s += z > 0 ? (1 - y[i]) * z + Math.log1p(Math.exp(-z)) : -y[i] * z + Math.log1p(Math.exp(z));
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
      );
      this.coef_ = w.slice(0, d);
      this.intercept_ = p.fitIntercept ? w[d] : 0;
      this.nIter_ = iterations;
      this.featureNames_ = [...X.names];
      this.fitted = true;
      return this;
    }
    let f = objective(w);
    let iter = 0;
    for (; iter < p.maxIter; iter++) {
      grad.fill(0);
      H.fill(0);
      for (let i = 0; i < n; i++) {
        const pr = sigmoid(margin(w, i));
        const r = pr - y[i];
        const s = Math.max(pr * (1 - pr), 1e-12);
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
    this.coef_ = w.slice(0, d);
    this.intercept_ = p.fitIntercept ? w[d] : 0;
    this.nIter_ = iter;
    this.featureNames_ = [...X.names];
    this.fitted = true;
    return this;
  }

  decisionFunction(X: Matrix): Float64Array {
    assertFitted(this.fitted, 'LogisticRegression');
    checkWidth(X, this.coef_.length, 'LogisticRegression');
    const d = X.nCols;
    const out = new Float64Array(X.nRows);
    for (let i = 0; i < X.nRows; i++) {
      let z = this.intercept_;
      for (let j = 0; j < d; j++) {
        const v = X.data[i * d + j];
        z += this.coef_[j] * (Number.isNaN(v) ? 0 : v);
      }
      out[i] = z;
    }
    return out;
  }

  predictProba(X: Matrix): Float64Array {
    const z = this.decisionFunction(X);
    for (let i = 0; i < z.length; i++) z[i] = sigmoid(z[i]);
    return z;
  }

  toJSON(): unknown {
    assertFitted(this.fitted, 'LogisticRegression');
    return {
      params: this.params,
      state: {
        coef: Array.from(this.coef_),
        intercept: this.intercept_,
        nIter: this.nIter_,
        featureNames: this.featureNames_,
      },
    };
  }

  static fromJSON(doc: unknown): LogisticRegression {
    const d = LrJSON.parse(doc);
    const m = new LogisticRegression(d.params);
    m.coef_ = Float64Array.from(d.state.coef);
    m.intercept_ = d.state.intercept;
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
  }),
  state: z.object({
    coef: z.array(z.number()),
    intercept: z.number(),
    nIter: z.number().int(),
    featureNames: z.array(z.string()),
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
): { iterations: number } {
  const smooth = (ww: Float64Array, grad: Float64Array | null) => {
    let s = 0;
    grad?.fill(0);
    for (let i = 0; i < n; i++) {
      const z = margin(ww, i);
      s += z > 0 ? (1 - y[i]) * z + Math.log1p(Math.exp(-z)) : -y[i] * z + Math.log1p(Math.exp(z));
      if (grad) {
        const r = sigmoid(z) - y[i];
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

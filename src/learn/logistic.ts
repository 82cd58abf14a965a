/**
 * L2-regularized logistic regression fitted by Newton's method (IRLS) with a Cholesky solve:
 * minimizes sum(log loss) + ||w||² / (2C), the intercept unpenalized, as scikit-learn's lbfgs does.
 */
import { z } from 'zod';
import { KeelError } from '../core/errors.js';
import { assertFitted, checkWidth, checkXy, sigmoid } from './base.js';
import type { Classifier, FitOptions, Matrix } from './types.js';

export interface LogisticRegressionParams {
  /** Inverse regularization strength (sklearn's C). */
  C: number;
  fitIntercept: boolean;
  maxIter: number;
  tol: number;
}

export const logisticDefaults: LogisticRegressionParams = {
  C: 1,
  fitIntercept: true,
  maxIter: 100,
  tol: 1e-8,
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
    const alpha = 1 / p.C;
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
  }),
  state: z.object({
    coef: z.array(z.number()),
    intercept: z.number(),
    nIter: z.number().int(),
    featureNames: z.array(z.string()),
  }),
});

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

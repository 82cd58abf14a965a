/**
 * Ridge regression: minimizes ||y − Xw − b||² + alpha ||w||², the intercept b unpenalized (X and y
 * are centered first), solved exactly by a Cholesky factorization of XᵀX + alpha·I, as
 * scikit-learn's Ridge(solver='cholesky') does. alpha = 0 is ordinary least squares.
 */
import { z } from 'zod';
import { KeelError } from '../core/errors.js';
import { assertFitted, checkWidth } from './base.js';
import type { Matrix, Regressor } from './types.js';

export interface RidgeParams {
  alpha: number;
  fitIntercept: boolean;
}

export const ridgeDefaults: RidgeParams = { alpha: 1, fitIntercept: true };

export class Ridge implements Regressor {
  readonly kind = 'ridge';
  readonly params: RidgeParams;
  coef_: Float64Array = new Float64Array(0);
  intercept_ = 0;
  featureNames_: string[] = [];
  private fitted = false;

  constructor(params: Partial<RidgeParams> = {}) {
    this.params = { ...ridgeDefaults, ...params };
  }

  getParams(): Record<string, unknown> {
    return { ...this.params };
  }

  fit(X: Matrix, y: Float64Array): this {
    const { alpha, fitIntercept } = this.params;
    if (!(alpha >= 0)) throw new KeelError('KEEL_E_USAGE', `Ridge: alpha must be >= 0, got ${alpha}`);
    const n = X.nRows;
    const d = X.nCols;
    if (y.length !== n)
      throw new KeelError('KEEL_E_INPUT', `Ridge: X has ${n} rows but y has ${y.length} values`);
    if (n === 0) throw new KeelError('KEEL_E_INPUT', 'Ridge: no rows to fit');
    for (let i = 0; i < X.data.length; i++)
      if (!Number.isFinite(X.data[i]))
        throw new KeelError(
          'KEEL_E_INPUT',
          `Ridge: X has a missing or infinite value at row ${Math.floor(i / d) + 1}; impute first`,
        );
    for (let i = 0; i < n; i++)
      if (!Number.isFinite(y[i]))
        throw new KeelError('KEEL_E_INPUT', `Ridge: y has a missing or infinite value at row ${i + 1}`);
    const xMean = new Float64Array(d);
    let yMean = 0;
    if (fitIntercept) {
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < d; j++) xMean[j] += X.data[i * d + j];
        yMean += y[i];
      }
      for (let j = 0; j < d; j++) xMean[j] /= n;
      yMean /= n;
    }
    const A = new Float64Array(d * d);
    const b = new Float64Array(d);
    const row = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) row[j] = X.data[i * d + j] - xMean[j];
      const yi = y[i] - yMean;
      for (let a = 0; a < d; a++) {
        const ra = row[a];
        b[a] += ra * yi;
        for (let c = 0; c <= a; c++) A[a * d + c] += ra * row[c];
      }
    }
    for (let a = 0; a < d; a++) {
      A[a * d + a] += alpha;
      for (let c = 0; c < a; c++) A[c * d + a] = A[a * d + c];
    }
    this.coef_ = solveSpd(A, b, d);
    let dot = 0;
    for (let j = 0; j < d; j++) dot += xMean[j] * this.coef_[j];
    this.intercept_ = fitIntercept ? yMean - dot : 0;
    this.featureNames_ = [...X.names];
    this.fitted = true;
    return this;
  }

  predict(X: Matrix): Float64Array {
    assertFitted(this.fitted, 'Ridge');
    checkWidth(X, this.coef_.length, 'Ridge');
    const d = X.nCols;
    const out = new Float64Array(X.nRows);
    for (let i = 0; i < X.nRows; i++) {
      let s = this.intercept_;
      for (let j = 0; j < d; j++) s += this.coef_[j] * X.data[i * d + j];
      out[i] = s;
    }
    return out;
  }

  toJSON(): unknown {
    assertFitted(this.fitted, 'Ridge');
    return {
      params: this.params,
      state: { coef: Array.from(this.coef_), intercept: this.intercept_, featureNames: this.featureNames_ },
    };
  }

  static fromJSON(doc: unknown): Ridge {
    const d = RidgeJSON.parse(doc);
    const m = new Ridge(d.params);
    m.coef_ = Float64Array.from(d.state.coef);
    m.intercept_ = d.state.intercept;
    m.featureNames_ = d.state.featureNames;
    m.fitted = true;
    return m;
  }
}

const RidgeJSON = z.object({
  params: z.object({ alpha: z.number().min(0), fitIntercept: z.boolean() }),
  state: z.object({ coef: z.array(z.number()), intercept: z.number(), featureNames: z.array(z.string()) }),
});

/** Cholesky solve of a symmetric positive (semi)definite system; a singular one (alpha 0, collinear columns) gets a tiny ridge. */
function solveSpd(A: Float64Array, b: Float64Array, d: number): Float64Array {
  let trace = 0;
  for (let i = 0; i < d; i++) trace += A[i * d + i];
  for (let attempt = 0; attempt < 8; attempt++) {
    const eps = attempt === 0 ? 0 : (trace / Math.max(d, 1)) * 1e-14 * 100 ** attempt;
    const L = new Float64Array(d * d);
    let ok = true;
    for (let i = 0; i < d && ok; i++)
      for (let j = 0; j <= i; j++) {
        let s = A[i * d + j] + (i === j ? eps : 0);
        for (let k = 0; k < j; k++) s -= L[i * d + k] * L[j * d + k];
        if (i === j) {
          if (!(s > 0)) {
            ok = false;
            break;
          }
          L[i * d + i] = Math.sqrt(s);
        } else L[i * d + j] = s / L[j * d + j];
      }
    if (!ok) continue;
    const z0 = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      let s = b[i];
      for (let k = 0; k < i; k++) s -= L[i * d + k] * z0[k];
      z0[i] = s / L[i * d + i];
    }
    const x = new Float64Array(d);
    for (let i = d - 1; i >= 0; i--) {
      let s = z0[i];
      for (let k = i + 1; k < d; k++) s -= L[k * d + i] * x[k];
      x[i] = s / L[i * d + i];
    }
    return x;
  }
  throw new KeelError(
    'KEEL_E_INPUT',
    'Ridge: the system is singular (a constant or duplicated column with alpha 0?)',
  );
}

/**
 * The contracts of src/learn. Estimators follow scikit-learn's: the constructor only stores
 * parameters, `fit` validates, sets learned fields (ending in `_`) and returns `this`,
 * predicting before fit throws KEEL_E_NOT_FITTED.
 */

/** A dense row-major matrix of float64 features; NaN means missing. */
export interface Matrix {
  readonly nRows: number;
  readonly nCols: number;
  /** data[row * nCols + col] */
  readonly data: Float64Array;
  readonly names: readonly string[];
}

/** A binary classifier over a Matrix; y holds 0 and 1. */
export interface Classifier {
  /** A short stable kind name used in the model format: 'logistic_regression', 'gradient_boosting', 'random_forest'. */
  readonly kind: string;
  getParams(): Record<string, unknown>;
  fit(X: Matrix, y: Float64Array, options?: FitOptions): this;
  /** P(y = 1) per row (binary). Multiclass models (3+ classes) give n × K probabilities, row-major. */
  predictProba(X: Matrix): Float64Array;
  /** Learned state plus parameters, as plain JSON data (no code). */
  toJSON(): unknown;
}

/** A regressor over a Matrix (scikit-learn's fit/predict). */
export interface Regressor {
  readonly kind: string;
  getParams(): Record<string, unknown>;
  fit(X: Matrix, y: Float64Array): this;
  predict(X: Matrix): Float64Array;
  toJSON(): unknown;
}

export interface FitOptions {
  /** An evaluation set for early stopping (gradient boosting). */
  eval?: { X: Matrix; y: Float64Array };
  /** Called now and then with progress (0..1) on long fits. */
  onProgress?: (fraction: number, message?: string) => void;
}

/**
 * What a model takes and gives: the input columns with the schema rules they were trained under
 * (types, nullability, ranges, allowed categories) and the target's classes. Serving validates
 * requests against `inputs`.
 */
export interface Signature {
  inputs: import('../data/schema.js').ColumnSpec[];
  target: { name: string; classes: [string, string]; positive: string };
}

/** What serving and the pipeline need from a trained model bundle (learn/model.ts `Model`). */
export interface Predictor {
  readonly signature: Signature;
  /** P(positive) per row, and the predicted class label at threshold 0.5 (or the model's threshold). */
  predictFrame(frame: import('../data/frame.js').Frame): { probability: Float64Array; label: string[] };
  /** The same as predictFrame, with the scoring off the calling thread where the model can. */
  predictFrameAsync?(
    frame: import('../data/frame.js').Frame,
  ): Promise<{ probability: Float64Array; label: string[] }>;
  /** Feature contributions per row and input column, when the model can explain itself. */
  explain?(frame: import('../data/frame.js').Frame): import('./model.js').Explanation;
}

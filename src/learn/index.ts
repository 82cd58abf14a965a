export type { ClassWeight } from './base.js';
export type { PermutationImportance, ShapValues, TreeEnsemble } from './explain/index.js';
export {
  ensembleOf,
  meanAbsShap,
  permutationImportance,
  treeExpectedValue,
  treeShap,
} from './explain/index.js';
export type { FeaturePipelineParams } from './features.js';
export { FeaturePipeline } from './features.js';
export type { RandomForestParams } from './forest.js';
export {
  ExtraTreesClassifier,
  RandomForestClassifier,
  RandomForestRegressor,
  randomForestDefaults,
} from './forest.js';
export type { GradientBoostingParams, GradientBoostingRegressorParams } from './gbdt.js';
export {
  GradientBoostingClassifier,
  GradientBoostingRegressor,
  gradientBoostingDefaults,
  gradientBoostingRegressorDefaults,
} from './gbdt.js';
export type { RidgeParams } from './linear.js';
export { Ridge, ridgeDefaults } from './linear.js';
export type { LogisticRegressionParams } from './logistic.js';
export { LogisticRegression, logisticDefaults } from './logistic.js';
export type {
  Average,
  BinaryMetrics,
  CalibrationCurve,
  Label,
  LabeledConfusionMatrix,
  PerClassScores,
  PrecisionRecallF1,
  ProbabilityMatrix,
} from './metrics.js';
export {
  accuracy,
  averagePrecision,
  balancedAccuracy,
  binaryMetrics,
  brierScore,
  calibrationCurve,
  confusionMatrix,
  f1Score,
  LOG_LOSS_EPS,
  labelConfusionMatrix,
  logLoss,
  mae,
  multiclassLogLoss,
  perClassScores,
  precision,
  precisionRecallF1,
  r2,
  recall,
  rmse,
  rocAuc,
  rocAucOvr,
  uniqueLabels,
} from './metrics.js';
export type { Explanation, ModelDocument } from './model.js';
export { MODEL_FORMAT, MODEL_FORMAT_VERSION, Model, registerClassifierKind } from './model.js';
export type { SplitIndices } from './split.js';
export { stratifiedSplit } from './split.js';
export type {
  ColumnStep,
  ColumnTransformerParams,
  ImputeStrategy,
  MinMaxScalerParams,
  OneHotEncoderParams,
  OrdinalEncoderParams,
  SimpleImputerParams,
  StandardScalerParams,
  TargetEncoderParams,
  Transformer,
  TransformerChainParams,
  TransformerJSON,
} from './transformers/index.js';
export {
  ColumnTransformer,
  frameToMatrix,
  MinMaxScaler,
  OneHotEncoder,
  OrdinalEncoder,
  SimpleImputer,
  StandardScaler,
  simpleImputerDefaults,
  TargetEncoder,
  TransformerChain,
  transformerFromJSON,
} from './transformers/index.js';
export { shareBins } from './tree/binning.js';
export { scoringPool } from './tree/pool.js';
export type { Classifier, FitOptions, Matrix, Predictor, Regressor, Signature } from './types.js';

/** Model selection: cross-validation splitters, crossValidate, search spaces and hyperparameter search. */
export type {
  CvData,
  CvResult,
  FoldResult,
  MetricFn,
  MetricName,
  MetricSpec,
  PreparedFold,
} from './cross-validate.js';
export { aggregate, crossValidate, evaluateFolds, metricNames, prepareFolds } from './cross-validate.js';
export type {
  BootstrapMetric,
  ChampionGateOptions,
  GateCheck,
  GateVerdict,
  PairedBootstrap,
  PairedBootstrapOptions,
  SliceMetrics,
  SliceRule,
  Threshold,
} from './gates.js';
export {
  absoluteGate,
  assertGate,
  championGate,
  pairedBootstrap,
  recordGate,
  sliceGate,
  verdict,
} from './gates.js';
export type { EvaluationReport, MetricWithCi, ReportInput } from './report.js';
export { evaluationReport, renderReportHtml, sliceMetrics } from './report.js';
export type {
  LeaderboardRow,
  SearchMethod,
  SearchOptions,
  SearchResult,
  SearchTracking,
  Trial,
  TrialStatus,
} from './search.js';
export { gridPlan, halvingRungs, randomCandidate, search } from './search.js';
export type { Candidate, Distribution, ModelFamily, Params, ParamValue } from './space.js';
export {
  choice,
  defaultFamilies,
  extraTreesFamily,
  gradientBoostingFamily,
  gridCandidates,
  gridValues,
  int,
  logisticFamily,
  logUniform,
  randomForestFamily,
  sample,
  sampleCandidate,
  uniform,
} from './space.js';
export type { Fold, SplitInput, Splitter } from './splitters.js';
export { groupKFold, kFold, repeatedStratifiedKFold, stratifiedKFold, timeSeriesSplit } from './splitters.js';
export type { TrainTableOptions, TrainTableResult } from './train-table.js';
export { choosePositive, modelNameFromFile, trainTable } from './train-table.js';

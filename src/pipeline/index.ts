export type {
  Pipeline,
  PipelineDefinition,
  RunHandle,
  Step,
  StepContext,
  StepFactory,
  StepOptions,
} from './define.js';
export { applyParamOverrides, definePipeline, isPipeline, isStep, step, stepFactory } from './define.js';
export type { PipelineEvent, RunOptions, RunResult } from './executor.js';
export { makeRunHandle, runPipeline } from './executor.js';

/** Progress lines for pipeline runs, on stderr: step names as they start and their timings. */
import type { PipelineEvent } from '../pipeline/index.js';

export interface ProgressOptions {
  write?: (line: string) => void;
  /** Show step-progress messages (default true). */
  verbose?: boolean;
}

export function progressPrinter(options: ProgressOptions = {}): (e: PipelineEvent) => void {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const verbose = options.verbose ?? true;
  return (e) => {
    switch (e.type) {
      case 'run-start':
        write(`run ${e.runId.slice(0, 8)}  pipeline ${e.pipeline}  experiment ${e.experiment}`);
        break;
      case 'step-start':
        write(`  > ${e.step}`);
        break;
      case 'step-progress':
        if (verbose) write(`    ${e.step}: ${e.message}`);
        break;
      case 'step-retry':
        write(`  ! ${e.step} failed (attempt ${e.attempt}): ${e.error.message}; retrying`);
        break;
      case 'step-end':
        write(`  ✓ ${e.step.padEnd(18)} ${formatSeconds(e.seconds)}`);
        break;
      case 'step-fail':
        write(`  ✗ ${e.step.padEnd(18)} ${formatSeconds(e.seconds)}  ${e.error.message}`);
        break;
      case 'run-end':
        write(`${e.status === 'FINISHED' ? 'finished' : 'FAILED'} in ${formatSeconds(e.seconds)}`);
        break;
    }
  };
}

export function formatSeconds(s: number): string {
  return s < 1 ? `${Math.round(s * 1000)} ms` : `${s.toFixed(2)} s`;
}

/**
 * The generated churn problem several learn tests fit on: the frame, a feature spec per named
 * column (number or category by the column's kind, nullable) and the 0/1 churn target.
 */
import { type Frame, generateChurn } from '../data/index.js';
import type { ColumnSpec } from '../data/schema.js';

export function churnProblem(
  rows: number,
  seed: number,
  features: readonly string[],
): { data: Frame; inputs: ColumnSpec[]; y: Float64Array } {
  const data = generateChurn({ rows, seed });
  const inputs: ColumnSpec[] = features.map((name) => ({
    name,
    type: data.col(name).kind === 'numeric' ? 'number' : 'category',
    nullable: true,
    role: 'feature',
  }));
  const y = Float64Array.from(data.categorical('churn').codes);
  return { data, inputs, y };
}

import { describe, expect, it } from 'vitest';
import { churnSchema, featureSpecs, generateChurn } from '../data/index.js';
import { FeaturePipeline } from './features.js';
import { RandomForestClassifier } from './forest.js';
import { GradientBoostingClassifier } from './gbdt.js';
import { LogisticRegression } from './logistic.js';
import { Model } from './model.js';
import type { Classifier } from './types.js';

const inputs = featureSpecs(churnSchema());
const data = generateChurn({ rows: 1200, seed: 4 });
const pipeline = new FeaturePipeline({ columns: inputs }).fit(data);
const X = pipeline.transform(data);
const y = Float64Array.from(data.categorical('churn').codes);
const signature = {
  inputs,
  target: { name: 'churn', classes: ['No', 'Yes'] as [string, string], positive: 'Yes' },
};
const make = (c: Classifier) => new Model({ pipeline, classifier: c, signature });
const logit = (p: number) => Math.log(p / (1 - p));

describe('Model.explain', () => {
  const sample = data.take(Int32Array.from({ length: 25 }, (_, i) => i * 40));
  for (const [name, clf, output] of [
    ['gradient boosting', new GradientBoostingClassifier({ nEstimators: 30 }).fit(X, y), 'margin'],
    ['random forest', new RandomForestClassifier({ nEstimators: 15 }).fit(X, y), 'probability'],
    ['logistic regression', new LogisticRegression().fit(X, y), 'margin'],
  ] as const) {
    it(`${name}: one contribution per input column, adding up with the base value to the ${output}`, () => {
      const m = make(clf);
      const ex = m.explain(sample);
      expect(ex.inputs).toEqual(inputs.map((c) => c.name));
      expect(ex.output).toBe(output);
      expect(ex.nRows).toBe(sample.nRows);
      const p = m.predictProba(sample);
      for (let i = 0; i < sample.nRows; i++) {
        let sum = ex.baseValue;
        for (let c = 0; c < ex.inputs.length; c++) sum += ex.contributions[i * ex.inputs.length + c];
        expect(sum).toBeCloseTo(output === 'margin' ? logit(p[i]) : p[i], 8);
      }
      // the encoded one-hot columns of contract were summed into one input column that matters
      const col = ex.inputs.indexOf('contract');
      const spread = Array.from(
        { length: sample.nRows },
        (_, i) => ex.contributions[i * ex.inputs.length + col],
      );
      expect(Math.max(...spread) - Math.min(...spread)).toBeGreaterThan(0);
    });
  }
});

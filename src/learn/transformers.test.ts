/**
 * Transformers: outputs against scikit-learn's on the same inputs
 * (src/learn/fixtures/make_transformer_fixtures.py; regenerate with
 * `/usr/bin/python3 src/learn/fixtures/make_transformer_fixtures.py`), then the contracts the
 * fixture cannot show: errors, JSON round trips, target encoding and composition.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { categoricalColumn, Frame, numericColumn, stringColumn } from '../data/frame.js';
import type { ColumnSpec } from '../data/schema.js';
import { churnProblem } from './churn.testkit.js';
import { FeaturePipeline } from './features.js';
import { LogisticRegression } from './logistic.js';
import { Model } from './model.js';
import {
  ColumnTransformer,
  frameToMatrix,
  MinMaxScaler,
  OneHotEncoder,
  OrdinalEncoder,
  SimpleImputer,
  StandardScaler,
  TargetEncoder,
  type Transformer,
  TransformerChain,
  transformerFromJSON,
} from './transformers/index.js';

type Cell = number | null;
const fx = JSON.parse(readFileSync(new URL('./fixtures/transformers.json', import.meta.url), 'utf8')) as {
  sklearn: string;
  numeric: { names: string[]; columns: Cell[][]; later: number[][]; expected: Record<string, Cell[][]> };
  categorical: {
    names: string[];
    train: string[][];
    later: string[][];
    expected: Record<string, { train: number[][]; later: number[][]; n_columns: number }>;
    with_missing: (string | null)[][];
    imputed_most_frequent: (string | number)[][];
    imputed_constant: string[][];
  };
};

const numeric = new Frame(fx.numeric.names, fx.numeric.columns.map(numericColumn));
const numericEmpty = numeric.withColumn('empty', numericColumn(new Array(numeric.nRows).fill(null)));
const numericLater = new Frame(fx.numeric.names, fx.numeric.later.map(numericColumn));
const catFrame = (cols: (string | null)[][], kind: 'categorical' | 'string' = 'categorical') =>
  new Frame(
    fx.categorical.names,
    cols.map((c) => (kind === 'categorical' ? categoricalColumn(c) : stringColumn(c))),
  );
const catTrain = catFrame(fx.categorical.train);
const catLater = catFrame(fx.categorical.later);

/** Row-major values of a numeric frame, NaN as null, as the fixture stores them. */
function rows(f: Frame): Cell[][] {
  const m = frameToMatrix(f);
  return Array.from({ length: m.nRows }, (_, r) =>
    Array.from({ length: m.nCols }, (_, j) => {
      const v = m.data[r * m.nCols + j];
      return Number.isNaN(v) ? null : v;
    }),
  );
}

/** Equal shape, NaN where sklearn has NaN, and values within 1e-9 (summation order only). */
function expectRows(actual: Cell[][], expected: Cell[][], what: string) {
  expect(actual.length, `${what} rows`).toBe(expected.length);
  expect(actual[0].length, `${what} columns`).toBe(expected[0].length);
  for (let r = 0; r < expected.length; r++)
    for (let j = 0; j < expected[r].length; j++) {
      const a = actual[r][j];
      const e = expected[r][j];
      if (e === null || a === null) expect(a, `${what}[${r}][${j}]`).toBe(e);
      else
        expect(Math.abs(a - e), `${what}[${r}][${j}]: keel ${a} vs sklearn ${e}`).toBeLessThanOrEqual(1e-9);
    }
}

/** JSON round trip: the restored transformer gives identical output. */
function roundTrip(t: Transformer, frame: Frame): Transformer {
  const back = transformerFromJSON(JSON.parse(JSON.stringify(t.toJSON())));
  expect(back.kind).toBe(t.kind);
  expect(rows(back.transform(frame))).toEqual(rows(t.transform(frame)));
  expect(back.featureNamesOut()).toEqual(t.featureNamesOut());
  return back;
}

describe(`transformers match scikit-learn ${fx.sklearn}`, () => {
  const e = fx.numeric.expected;

  it('SimpleImputer: mean, median, most_frequent, constant with indicators; an empty column is dropped', () => {
    for (const strategy of ['mean', 'median', 'most_frequent', 'constant'] as const) {
      const imp = new SimpleImputer({
        strategy,
        addIndicator: true,
        ...(strategy === 'constant' ? { fillValue: 7.5 } : {}),
      });
      expectRows(rows(imp.fitTransform(numericEmpty)), e[`imputer_${strategy}`], strategy);
      roundTrip(imp, numericEmpty);
    }
    const imp = new SimpleImputer({ strategy: 'median', addIndicator: true }).fit(numericEmpty);
    expect(imp.featureNamesOut()).toEqual([
      'a',
      'b',
      'c',
      'd',
      'a=missing',
      'b=missing',
      'c=missing',
      'd=missing',
      'empty=missing',
    ]);
    const keep = new SimpleImputer({ strategy: 'median', keepEmptyFeatures: true });
    expectRows(rows(keep.fitTransform(numericEmpty)), e.imputer_median_keep_empty, 'keepEmptyFeatures');
  });

  it('SimpleImputer on categories: most_frequent (ties to the smallest) and constant, for category and string columns', () => {
    for (const kind of ['categorical', 'string'] as const) {
      const frame = catFrame(fx.categorical.with_missing, kind);
      const out = new SimpleImputer({ strategy: 'most_frequent', addIndicator: true }).fitTransform(frame);
      expect(out.names).toEqual(['color', 'size', 'color=missing', 'size=missing']);
      const values = out.names.map((n) => Array.from({ length: out.nRows }, (_, r) => out.value(n, r)));
      expect(values).toEqual(fx.categorical.imputed_most_frequent);
      const constant = new SimpleImputer({ strategy: 'constant', fillValue: 'unknown' }).fitTransform(frame);
      expect(
        constant.names.map((n) => Array.from({ length: out.nRows }, (_, r) => constant.value(n, r))),
      ).toEqual(fx.categorical.imputed_constant);
    }
  });

  it('StandardScaler and MinMaxScaler: NaN passes through, a constant column scales by 1, later rows use fit statistics', () => {
    expectRows(rows(new StandardScaler().fitTransform(numeric)), e.standard_scaler, 'standard');
    expectRows(
      rows(new StandardScaler({ withMean: false }).fitTransform(numeric)),
      e.standard_scaler_no_mean,
      'no mean',
    );
    expectRows(rows(new MinMaxScaler().fitTransform(numeric)), e.min_max_scaler, 'minmax');
    expectRows(
      rows(new MinMaxScaler({ featureRange: [-1, 2] }).fitTransform(numeric)),
      e.min_max_scaler_range,
      'range',
    );
    const clip = new MinMaxScaler({ clip: true }).fit(numeric);
    expectRows(rows(clip.transform(numericLater)), e.min_max_scaler_clip_later, 'clip');
    const std = new StandardScaler().fit(numeric);
    expectRows(rows(std.transform(numericLater)), e.standard_scaler_later, 'later');
    expect(std.scale_[2]).toBe(1); // column c is constant
    roundTrip(std, numericLater);
    roundTrip(clip, numericLater);
    expect(() => new MinMaxScaler({ featureRange: [1, 1] }).fit(numeric)).toThrow(/min < max, got \[1, 1\]/);
  });

  it('OneHotEncoder: sorted categories, unknowns ignored, rare categories grouped last', () => {
    const c = fx.categorical.expected;
    const cases: [string, OneHotEncoder][] = [
      ['one_hot_ignore', new OneHotEncoder({ handleUnknown: 'ignore' })],
      [
        'one_hot_min_frequency_3',
        new OneHotEncoder({ handleUnknown: 'infrequent_if_exist', minFrequency: 3 }),
      ],
      [
        'one_hot_min_frequency_fraction',
        new OneHotEncoder({ handleUnknown: 'infrequent_if_exist', minFrequency: 0.1 }),
      ],
      ['one_hot_min_frequency_ignore', new OneHotEncoder({ handleUnknown: 'ignore', minFrequency: 5 })],
    ];
    for (const [name, enc] of cases)
      for (const kind of ['categorical', 'string'] as const) {
        expectRows(
          rows(enc.fitTransform(catFrame(fx.categorical.train, kind))),
          c[name].train,
          `${name} train`,
        );
        expectRows(rows(enc.transform(catFrame(fx.categorical.later, kind))), c[name].later, `${name} later`);
        roundTrip(enc, catLater);
      }
    const grouped = new OneHotEncoder({ handleUnknown: 'infrequent_if_exist', minFrequency: 0.1 }).fit(
      catTrain,
    );
    expect(grouped.featureNamesOut().at(-1)).toBe('size=infrequent');
    expect(grouped.featureNamesOut()).toContain('color=infrequent');
  });

  it('OrdinalEncoder: sorted codes, unknown to a configured value', () => {
    const c = fx.categorical.expected.ordinal_unknown_minus_one;
    const enc = new OrdinalEncoder({ handleUnknown: 'use_encoded_value', unknownValue: -1 });
    expectRows(rows(enc.fitTransform(catTrain)), c.train, 'train');
    expectRows(rows(enc.transform(catLater)), c.later, 'later');
    roundTrip(enc, catLater);
  });
});

describe('transformer contracts', () => {
  it('an unknown category with handleUnknown error names the column, the value and the row', () => {
    const enc = new OneHotEncoder().fit(catTrain);
    expect(() => enc.transform(catLater)).toThrow(
      /column "color" has category "pink" at row 2, not seen in fit/,
    );
    try {
      enc.transform(catLater);
    } catch (err) {
      expect(err).toMatchObject({
        code: 'KEEL_E_INPUT',
        where: { column: 'color', row: 2 },
        details: { value: 'pink' },
      });
    }
    expect(() => new OrdinalEncoder().fit(catTrain).transform(catLater)).toThrow(
      /"color" has category "pink"/,
    );
    expect(() =>
      new OrdinalEncoder({ handleUnknown: 'use_encoded_value', unknownValue: 1 }).fit(catTrain),
    ).toThrow(/unknownValue 1 is already the code of "green" in column "color"/);
  });

  it('missing categories are all zeros (one-hot) and NaN or a chosen code (ordinal), never an error', () => {
    const f = new Frame(['c'], [categoricalColumn(['x', null, 'y'])]);
    const oh = new OneHotEncoder().fit(f);
    expect(rows(oh.transform(f))).toEqual([
      [1, 0],
      [0, 0],
      [0, 1],
    ]);
    expect(rows(new OrdinalEncoder().fitTransform(f))).toEqual([[0], [null], [1]]);
    expect(rows(new OrdinalEncoder({ encodedMissingValue: -5 }).fitTransform(f))).toEqual([[0], [-5], [1]]);
  });

  it('refuses bad inputs and use before fit with clear errors', () => {
    expect(() => new StandardScaler().transform(numeric)).toThrow(/StandardScaler is not fitted yet/);
    expect(() => new OneHotEncoder().featureNamesOut()).toThrow(/not fitted/);
    expect(() => new SimpleImputer({ strategy: 'mean' }).fit(catTrain)).toThrow(
      /strategy 'mean' needs numbers but column "color" is categorical/,
    );
    expect(() => new OneHotEncoder().fit(numeric)).toThrow(
      /column "a" is numeric; encoders take category or string columns/,
    );
    expect(() => new StandardScaler().fit(catTrain)).toThrow(
      /column "color" is categorical, expected numeric/,
    );
    expect(() => new StandardScaler().fit(numeric).transform(numeric.select(['a']))).toThrow(
      /column "b" was seen in fit but is missing/,
    );
    expect(() => new OneHotEncoder({ minFrequency: 2.5 }).fit(catTrain)).toThrow(/minFrequency must be/);
    expect(() => transformerFromJSON({ kind: 'pca', params: {}, state: {} })).toThrow(
      /unknown transformer kind "pca"/,
    );
    const doc = new StandardScaler().fit(numeric).toJSON();
    expect(() => transformerFromJSON({ ...doc, state: { ...(doc.state as object), scale: [1] } })).toThrow(
      /invalid standard_scaler document/,
    );
  });
});

describe('TargetEncoder', () => {
  const f = new Frame(['c'], [categoricalColumn(['a', 'a', 'a', 'b', 'b', 'c', null, 'a'])]);
  const y = [1, 0, 1, 1, 1, 0, 0, 1];

  it("fit learns sklearn 1.3's formulas: a fixed m, and 'auto' from the variances", () => {
    const yMean = 5 / 8;
    const m = new TargetEncoder({ smooth: 2 }).fit(f, y);
    expect(m.targetMean_).toBe(yMean);
    const out = frameToMatrix(m.transform(f)).data;
    expect(out[0]).toBeCloseTo((3 + 2 * yMean) / (4 + 2), 12); // a: 4 rows, sum 3
    expect(out[3]).toBeCloseTo((2 + 2 * yMean) / (2 + 2), 12); // b
    expect(out[6]).toBe(yMean); // missing → target mean
    const auto = frameToMatrix(new TargetEncoder().fit(f, y).transform(f)).data;
    const yVar = yMean * (1 - yMean);
    const lambdaA = (yVar * 4) / (yVar * 4 + 0.1875); // var within a: mean 0.75 → 0.1875
    expect(auto[0]).toBeCloseTo(lambdaA * 0.75 + (1 - lambdaA) * yMean, 12);
    expect(auto[3]).toBeCloseTo(1, 12); // b: no variance within → λ = 1
    const unseen = new Frame(['c'], [categoricalColumn(['z'])]);
    expect(frameToMatrix(new TargetEncoder().fit(f, y).transform(unseen)).data[0]).toBe(yMean);
  });

  it("fitTransform cross-fits: a row's own target never reaches its own encoding", () => {
    const n = 200;
    const cats = Array.from({ length: n }, (_, i) => `k${(i * 7) % 13}`);
    const frame = new Frame(['c'], [stringColumn(cats)]);
    const target = Array.from({ length: n }, (_, i) => Math.sin(i) * 3 + (i % 13));
    const base = frameToMatrix(new TargetEncoder({ cv: 4, seed: 3 }).fitTransform(frame, target)).data;
    for (const i of [0, 17, 99, 150]) {
      const changed = [...target];
      changed[i] += 1000;
      const again = frameToMatrix(new TargetEncoder({ cv: 4, seed: 3 }).fitTransform(frame, changed)).data;
      expect(again[i]).toBe(base[i]);
      expect(again.some((v, r) => r !== i && v !== base[r])).toBe(true); // other rows did see it
    }
    // and it is not the plain fit-then-transform encoding
    const plain = frameToMatrix(
      new TargetEncoder({ cv: 4, seed: 3 }).fit(frame, target).transform(frame),
    ).data;
    expect(Array.from(base)).not.toEqual(Array.from(plain));
    // deterministic for a seed
    expect(
      Array.from(frameToMatrix(new TargetEncoder({ cv: 4, seed: 3 }).fitTransform(frame, target)).data),
    ).toEqual(Array.from(base));
  });

  it('round-trips through JSON and refuses a missing or bad target', () => {
    const enc = new TargetEncoder().fit(f, y);
    roundTrip(enc, f);
    expect(() => new TargetEncoder().fit(f)).toThrow(/fit needs the target y/);
    expect(() => new TargetEncoder().fit(f, [1, 2])).toThrow(/8 rows but 2 targets/);
    expect(() => new TargetEncoder().fit(f, [1, 0, 1, 1, 1, 0, Number.NaN, 1])).toThrow(/NaN at row 7/);
    expect(() => new TargetEncoder({ cv: 1 }).fit(f, y)).toThrow(/cv must be a whole number ≥ 2/);
  });
});

describe('ColumnTransformer and TransformerChain', () => {
  const frame = new Frame(
    ['age', 'income', 'city', 'id'],
    [
      numericColumn([30, null, 50, 40]),
      numericColumn([1, 2, 3, null]),
      categoricalColumn(['x', 'y', 'x', 'z']),
      numericColumn([1, 2, 3, 4]),
    ],
  );
  const y = [0, 1, 1, 0];
  const make = () =>
    new ColumnTransformer({
      steps: [
        {
          name: 'num',
          columns: ['age', 'income'],
          transformer: new TransformerChain({
            steps: [
              { name: 'impute', transformer: new SimpleImputer({ strategy: 'median', addIndicator: true }) },
              { name: 'scale', transformer: new StandardScaler() },
            ],
          }),
        },
        { name: 'cat', columns: ['city'], transformer: new OneHotEncoder({ handleUnknown: 'ignore' }) },
        { name: 'te', columns: ['city'], transformer: new TargetEncoder({ smooth: 1, cv: 2 }) },
      ],
      remainder: 'passthrough',
    });

  it('applies each step to its columns, concatenates, passes the rest through, and round-trips', () => {
    const ct = make().fit(frame, y);
    expect(ct.featureNamesOut()).toEqual([
      'age',
      'income',
      'age=missing',
      'income=missing',
      'city=x',
      'city=y',
      'city=z',
      'city',
      'id',
    ]);
    const out = ct.transform(frame);
    expect(out.names).toEqual(ct.featureNamesOut());
    const age = frameToMatrix(out.select(['age'])).data;
    expect(age[1]).toBeCloseTo(age[2] - (age[2] - age[0]) / 2, 12); // median 40 sits between 30 and 50
    expect(Array.from(out.numeric('id'))).toEqual([1, 2, 3, 4]);
    expect(Array.from(out.numeric('city=z'))).toEqual([0, 0, 0, 1]);
    roundTrip(ct, frame);
    // fitTransform cross-fits the target encoder inside, fit + transform does not
    const crossFitted = make().fitTransform(frame, y);
    expect(Array.from(crossFitted.numeric('city'))).not.toEqual(Array.from(out.numeric('city')));
    expect(Array.from(crossFitted.numeric('city=x'))).toEqual(Array.from(out.numeric('city=x')));
  });

  it('refuses duplicate step names, unknown columns and clashing output names', () => {
    const imp = () => new SimpleImputer();
    expect(() =>
      new ColumnTransformer({
        steps: [
          { name: 's', columns: ['age'], transformer: imp() },
          { name: 's', columns: ['income'], transformer: imp() },
        ],
      }).fit(frame),
    ).toThrow(/two steps are named "s"/);
    expect(() =>
      new ColumnTransformer({ steps: [{ name: 's', columns: ['nope'], transformer: imp() }] }).fit(frame),
    ).toThrow(/step "s" names column "nope"/);
    expect(() =>
      new ColumnTransformer({
        steps: [
          { name: 'a', columns: ['age'], transformer: imp() },
          { name: 'b', columns: ['age'], transformer: imp() },
        ],
      }).fit(frame),
    ).toThrow(/output column "age" comes from both step "a" and step "b"/);
    expect(() => make().transform(frame)).toThrow(/ColumnTransformer is not fitted/);
  });
});

describe('FeaturePipeline options (optional; defaults and old documents unchanged)', () => {
  const specs: ColumnSpec[] = [
    { name: 'n', type: 'number', nullable: true, role: 'feature' },
    { name: 'c', type: 'category', nullable: true, allowed: ['x', 'y', 'z', 'w'], role: 'feature' },
  ];
  const dict = ['x', 'y', 'z', 'w'];
  const train = new Frame(
    ['n', 'c'],
    [numericColumn([1, 2, null, 4, 2, 10]), categoricalColumn(['x', 'y', null, 'x', 'x', 'z'], dict)],
  );
  const y = [1, 0, 1, 1, 0, 0];
  const col = (m: { data: Float64Array; nCols: number; nRows: number }, j: number) =>
    Array.from({ length: m.nRows }, (_, r) => m.data[r * m.nCols + j]);

  it('reads a document written before the options existed, and a default pipeline still writes that form', () => {
    // as Keel wrote it before (params without optional keys, one-hot steps without infrequent/handleUnknown)
    const old = {
      params: { impute: 'median', scale: true, missingIndicator: true },
      steps: [
        { kind: 'numeric', column: 'n', fill: 2, mean: 3, std: 2, indicator: true },
        { kind: 'onehot', column: 'c', categories: ['x', 'y'] },
      ],
    };
    const p = FeaturePipeline.fromJSON(old, specs);
    const later = new Frame(['n', 'c'], [numericColumn([5, null]), categoricalColumn(['z', 'y'], dict)]);
    const m = p.transform(later);
    expect(m.names).toEqual(['n', 'n=missing', 'c=x', 'c=y']);
    expect(Array.from(m.data)).toEqual([1, 0, 0, 0, -0.5, 1, 0, 1]); // unseen z: zeros, as before
    expect(p.toJSON()).toEqual(old);
    const fresh = new FeaturePipeline({ columns: specs }).fit(train).toJSON() as {
      params: object;
      steps: object[];
    };
    expect(Object.keys(fresh.params)).toEqual(['impute', 'scale', 'missingIndicator']);
    expect(fresh.steps[1]).toEqual({ kind: 'onehot', column: 'c', categories: ['x', 'y', 'z'] });
  });

  it('imputes most_frequent or a constant and scales min-max to [0, 1]', () => {
    const mf = new FeaturePipeline({ columns: specs, impute: 'most_frequent', scale: false }).fit(train);
    expect(col(mf.transform(train), 0)).toEqual([1, 2, 2, 4, 2, 10]);
    const k = new FeaturePipeline({
      columns: specs,
      impute: 'constant',
      fillValue: -1,
      scaler: 'minmax',
    }).fit(train);
    expect(col(k.transform(train), 0)).toEqual([2 / 11, 3 / 11, 0, 5 / 11, 3 / 11, 1]);
  });

  it('one-hot: rare categories grouped, unknown categories rejected by name or counted as infrequent', () => {
    const p = new FeaturePipeline({ columns: specs, minFrequency: 2, handleUnknown: 'error' }).fit(train);
    expect(p.featureNames_).toEqual(['n', 'n=missing', 'c=x', 'c=infrequent']);
    const m = p.transform(train);
    expect(col(m, 2)).toEqual([1, 0, 0, 1, 1, 0]);
    expect(col(m, 3)).toEqual([0, 1, 0, 0, 0, 1]);
    const unseen = new Frame(['n', 'c'], [numericColumn([1, 1]), categoricalColumn(['x', 'w'], dict)]);
    expect(() => p.transform(unseen)).toThrow(/column "c" has category "w" at row 2, not seen in training/);
    const inf = new FeaturePipeline({
      columns: specs,
      minFrequency: 2,
      handleUnknown: 'infrequent_if_exist',
    }).fit(train);
    expect(col(inf.transform(unseen), 3)).toEqual([0, 1]);
    const back = FeaturePipeline.fromJSON(JSON.parse(JSON.stringify(inf.toJSON())), specs);
    expect(Array.from(back.transform(unseen).data)).toEqual(Array.from(inf.transform(unseen).data));
  });

  it('ordinal: sorted codes, missing and unseen to unknownValue (or an error)', () => {
    const p = new FeaturePipeline({ columns: specs, encoding: 'ordinal', unknownValue: -7 }).fit(train);
    expect(p.featureNames_).toEqual(['n', 'n=missing', 'c']);
    const unseen = new Frame(
      ['n', 'c'],
      [numericColumn([1, 1, 1]), categoricalColumn(['z', 'w', null], dict)],
    );
    expect(col(p.transform(unseen), 2)).toEqual([2, -7, -7]);
    const strict = new FeaturePipeline({ columns: specs, encoding: 'ordinal', handleUnknown: 'error' }).fit(
      train,
    );
    expect(() => strict.transform(unseen)).toThrow(/category "w" at row 2/);
    expect(() =>
      new FeaturePipeline({ columns: specs, encoding: 'ordinal', handleUnknown: 'infrequent_if_exist' }).fit(
        train,
      ),
    ).toThrow(/one-hot encoding only/);
  });

  it('target: needs y, cross-fits in fitTransform, and a model document carries it exactly', () => {
    expect(() => new FeaturePipeline({ columns: specs, encoding: 'target' }).fit(train)).toThrow(
      /needs the target: fit\(frame, y\)/,
    );
    const small = new FeaturePipeline({ columns: specs, encoding: 'target', targetSmooth: 0 }).fit(train, y);
    // m = 0: the plain mean of y per category; missing gets the overall mean 3/6
    expect(col(small.transform(train), 2)).toEqual([2 / 3, 0, 0.5, 2 / 3, 2 / 3, 0]);
    const {
      data,
      inputs,
      y: target,
    } = churnProblem(600, 4, ['tenure', 'monthly_charges', 'contract', 'payment_method']);
    const pipeline = new FeaturePipeline({
      columns: inputs,
      encoding: 'target',
      targetSmooth: 5,
      targetCv: 3,
      seed: 2,
    });
    const Xtrain = pipeline.fitTransform(data, target);
    const Xplain = pipeline.transform(data);
    const j = pipeline.featureNames_.indexOf('contract');
    expect(col(Xtrain, j)).not.toEqual(col(Xplain, j)); // cross-fitted training column
    expect(new Set(col(Xplain, j)).size).toBe(3); // three contracts, one value each
    const model = new Model({
      pipeline,
      classifier: new LogisticRegression().fit(Xtrain, target),
      signature: { inputs, target: { name: 'churn', classes: ['No', 'Yes'], positive: 'Yes' } },
    });
    const doc = JSON.parse(JSON.stringify(model.toJSON()));
    expect(doc.pipeline.params).toMatchObject({ encoding: 'target', targetSmooth: 5, targetCv: 3, seed: 2 });
    expect(Array.from(Model.fromJSON(doc).predictFrame(data).probability)).toEqual(
      Array.from(model.predictFrame(data).probability),
    );
    const step = doc.pipeline.steps.find((s: { column: string }) => s.column === 'contract');
    expect(step).toMatchObject({ kind: 'target', categories: ['Month-to-month', 'One year', 'Two year'] });
    step.encodings.pop();
    expect(() => Model.fromJSON(doc)).toThrow(/one encoding per category/);
  });
});

describe('transformer properties', () => {
  const columnArb = fc.array(fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.constant(null)), {
    minLength: 2,
    maxLength: 30,
  });

  it('scalers: min-max fit output lies in [0, 1], standard output has mean 0, and JSON round trips are exact', () => {
    fc.assert(
      fc.property(columnArb, (values) => {
        const frame = new Frame(['v'], [numericColumn(values)]);
        const mm = new MinMaxScaler().fit(frame);
        const out = mm.transform(frame).numeric('v');
        const present = Array.from(out).filter((v) => !Number.isNaN(v));
        if (!present.every((v) => v >= -1e-12 && v <= 1 + 1e-12)) return false;
        const std = new StandardScaler().fit(frame);
        const z = Array.from(std.transform(frame).numeric('v')).filter((v) => !Number.isNaN(v));
        const mean = z.length ? z.reduce((a, b) => a + b, 0) / z.length : 0;
        if (Math.abs(mean) > 1e-6) return false;
        for (const t of [mm, std]) {
          const back = transformerFromJSON(JSON.parse(JSON.stringify(t.toJSON())));
          const a = Array.from(back.transform(frame).numeric('v'));
          const b = Array.from(t.transform(frame).numeric('v'));
          if (!a.every((v, i) => Object.is(v, b[i]))) return false;
        }
        return true;
      }),
      { numRuns: 150 },
    );
    // found by the property above: a column of -0 (JSON writes it as 0) still round-trips exactly
    const negZero = new Frame(['v'], [numericColumn([null, -0])]);
    for (const t of [new MinMaxScaler().fit(negZero), new StandardScaler().fit(negZero)]) {
      const back = transformerFromJSON(JSON.parse(JSON.stringify(t.toJSON())));
      expect(Array.from(back.transform(negZero).numeric('v'))).toEqual(
        Array.from(t.transform(negZero).numeric('v')),
      );
    }
  });

  it('one-hot: each row has exactly one 1 when its category is present (with or without grouping), none when missing', () => {
    const catArb = fc.array(fc.oneof(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.constant(null)), {
      minLength: 1,
      maxLength: 40,
    });
    fc.assert(
      fc.property(catArb, fc.integer({ min: 1, max: 5 }), (values, minFrequency) => {
        const frame = new Frame(['c'], [stringColumn(values)]);
        const m = frameToMatrix(new OneHotEncoder({ minFrequency }).fitTransform(frame));
        for (let r = 0; r < m.nRows; r++) {
          let s = 0;
          for (let j = 0; j < m.nCols; j++) s += m.data[r * m.nCols + j];
          if (s !== (values[r] === null ? 0 : 1)) return false;
        }
        return true;
      }),
      { numRuns: 150 },
    );
  });
});

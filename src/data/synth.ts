/**
 * A seeded synthetic customer-churn data set shaped like the Telco one: the demo's data and most
 * tests' data. The label comes from a logistic model of the features plus noise, so a good model
 * reaches a ROC-AUC in the mid 0.8s, not 1.0. A few values are missing on purpose.
 */
import { writeFile } from 'node:fs/promises';
import { Rng } from '../core/random.js';
import { categoricalColumn, Frame, numericColumn, stringColumn } from './frame.js';
import { parseSchema, type Schema } from './schema.js';

export const CONTRACTS = ['Month-to-month', 'One year', 'Two year'] as const;
export const PAYMENTS = [
  'Electronic check',
  'Mailed check',
  'Bank transfer (automatic)',
  'Credit card (automatic)',
] as const;
export const INTERNET = ['DSL', 'Fiber optic', 'No'] as const;
const ADDON = ['Yes', 'No', 'No internet service'] as const;

export interface ChurnRow {
  customer_id: string;
  tenure: number;
  monthly_charges: number | null;
  total_charges: number | null;
  contract: string;
  payment_method: string;
  internet_service: string;
  online_security: string | null;
  tech_support: string;
  streaming_tv: string;
  senior_citizen: number;
  churn: 'Yes' | 'No';
}

export function generateChurnRows(opts: { rows?: number; seed?: number } = {}): ChurnRow[] {
  const n = opts.rows ?? 10_000;
  const rng = new Rng(opts.seed ?? 42);
  const out: ChurnRow[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const contract = rng.weighted(CONTRACTS, [0.55, 0.21, 0.24]);
    const tenureMean = contract === 'Month-to-month' ? 16 : contract === 'One year' ? 38 : 55;
    const tenure =
      rng.next() < 0.002 ? 0 : Math.max(1, Math.min(72, Math.round(tenureMean + rng.normal() * 14)));
    const internet = rng.weighted(INTERNET, [0.34, 0.44, 0.22]);
    const addon = () => (internet === 'No' ? 'No internet service' : rng.next() < 0.35 ? 'Yes' : 'No');
    const onlineSecurity = addon();
    const techSupport = addon();
    const streamingTv = internet === 'No' ? 'No internet service' : rng.next() < 0.45 ? 'Yes' : 'No';
    const senior = rng.next() < 0.16 ? 1 : 0;
    const payment = rng.weighted(PAYMENTS, [0.34, 0.23, 0.22, 0.21]);
    let monthly =
      internet === 'No'
        ? 20 + rng.next() * 6
        : internet === 'DSL'
          ? 45 + rng.next() * 25
          : 70 + rng.next() * 35;
    if (streamingTv === 'Yes') monthly += 8;
    monthly = Math.round(Math.min(119.9, monthly) * 100) / 100;
    const total = tenure === 0 ? null : Math.round(tenure * monthly * (0.95 + rng.next() * 0.1) * 100) / 100;
    const logit =
      -1.05 +
      (contract === 'Month-to-month' ? 1.0 : contract === 'One year' ? -0.5 : -1.6) -
      0.035 * tenure +
      0.012 * (monthly - 65) +
      (internet === 'Fiber optic' ? 0.55 : internet === 'No' ? -0.6 : 0) +
      (onlineSecurity === 'Yes' ? -0.55 : 0) +
      (techSupport === 'Yes' ? -0.45 : 0) +
      (payment === 'Electronic check' ? 0.5 : 0) +
      (streamingTv === 'Yes' ? 0.15 : 0) +
      0.35 * senior +
      0.7 * rng.normal();
    const churn = rng.next() < 1 / (1 + Math.exp(-logit)) ? 'Yes' : 'No';
    out[i] = {
      customer_id: `C${String(i + 1).padStart(6, '0')}`,
      tenure,
      monthly_charges: rng.next() < 0.005 ? null : monthly,
      total_charges: rng.next() < 0.01 ? null : total,
      contract,
      payment_method: payment,
      internet_service: internet,
      online_security: rng.next() < 0.015 ? null : onlineSecurity,
      tech_support: techSupport,
      streaming_tv: streamingTv,
      senior_citizen: senior,
      churn,
    };
  }
  return out;
}

const COLUMNS: (keyof ChurnRow)[] = [
  'customer_id',
  'tenure',
  'monthly_charges',
  'total_charges',
  'contract',
  'payment_method',
  'internet_service',
  'online_security',
  'tech_support',
  'streaming_tv',
  'senior_citizen',
  'churn',
];

/** The synthetic churn data as CSV text (header + one line per row, LF endings). */
export function churnCsv(opts: { rows?: number; seed?: number } = {}): string {
  const rows = generateChurnRows(opts);
  const lines = [COLUMNS.join(',')];
  for (const r of rows) lines.push(COLUMNS.map((c) => csvCell(r[c])).join(','));
  return `${lines.join('\n')}\n`;
}

function csvCell(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export async function writeChurnCsv(
  path: string,
  opts: { rows?: number; seed?: number } = {},
): Promise<void> {
  await writeFile(path, churnCsv(opts));
}

/** The synthetic churn data as a Frame (typed as churnSchema() says). */
export function generateChurn(opts: { rows?: number; seed?: number } = {}): Frame {
  const rows = generateChurnRows(opts);
  const num = (k: keyof ChurnRow) => numericColumn(rows.map((r) => r[k] as number | null));
  const cat = (k: keyof ChurnRow, cats: readonly string[]) =>
    categoricalColumn(
      rows.map((r) => r[k] as string | null),
      cats,
    );
  return new Frame(COLUMNS, [
    stringColumn(rows.map((r) => r.customer_id)),
    num('tenure'),
    num('monthly_charges'),
    num('total_charges'),
    cat('contract', CONTRACTS),
    cat('payment_method', PAYMENTS),
    cat('internet_service', INTERNET),
    cat('online_security', ADDON),
    cat('tech_support', ADDON),
    cat('streaming_tv', ADDON),
    num('senior_citizen'),
    cat('churn', ['No', 'Yes']),
  ]);
}

export function churnSchema(): Schema {
  return parseSchema({
    name: 'synthetic_churn',
    target: { column: 'churn', positive: 'Yes', classes: ['No', 'Yes'] },
    rows: { min: 50 },
    columns: [
      { name: 'customer_id', type: 'string', unique: true, role: 'id' },
      { name: 'tenure', type: 'integer', min: 0, max: 72 },
      { name: 'monthly_charges', type: 'number', min: 0, max: 200, nullable: true },
      { name: 'total_charges', type: 'number', min: 0, nullable: true },
      { name: 'contract', type: 'category', allowed: [...CONTRACTS] },
      { name: 'payment_method', type: 'category', allowed: [...PAYMENTS] },
      { name: 'internet_service', type: 'category', allowed: [...INTERNET] },
      { name: 'online_security', type: 'category', allowed: [...ADDON], nullable: true },
      { name: 'tech_support', type: 'category', allowed: [...ADDON] },
      { name: 'streaming_tv', type: 'category', allowed: [...ADDON] },
      { name: 'senior_citizen', type: 'integer', min: 0, max: 1 },
      { name: 'churn', type: 'category', allowed: ['No', 'Yes'] },
    ],
  });
}

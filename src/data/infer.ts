import type { ColumnSpec, Schema } from './schema.js';

const NUMBER_RE = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const MISSING = new Set(['', 'NA', 'N/A', 'NaN', 'null', 'NULL', '?']);

/**
 * A starting schema from text cells: numbers (integer when all whole), categories when there are
 * few distinct values, strings otherwise; nullable when any cell is missing; unique strings are ids.
 */
export function inferSchemaFromRows(header: string[], rows: string[][], maxCategories = 50): Schema {
  const columns: ColumnSpec[] = header.map((name, k) => {
    let numeric = true;
    let integer = true;
    let nulls = 0;
    const distinct = new Set<string>();
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const row of rows) {
      const t = row[k].trim();
      if (MISSING.has(t)) {
        nulls++;
        continue;
      }
      if (distinct.size <= rows.length) distinct.add(t);
      if (numeric && NUMBER_RE.test(t)) {
        const v = Number(t);
        if (!Number.isInteger(v)) integer = false;
        if (v < min) min = v;
        if (v > max) max = v;
      } else numeric = false;
    }
    const nullable = nulls > 0;
    const base = { name, nullable, role: 'feature' as const };
    if (numeric && distinct.size > 0) return { ...base, type: integer ? 'integer' : 'number' };
    if (distinct.size <= maxCategories) return { ...base, type: 'category', allowed: [...distinct].sort() };
    const unique = distinct.size === rows.length - nulls;
    return { ...base, type: 'string', ...(unique ? { unique: true, role: 'id' as const } : {}) };
  });
  return { missing_values: [...MISSING], columns };
}

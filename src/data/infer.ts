import { isDatetime } from './datetime.js';
import type { ColumnSpec, Schema } from './schema.js';

const NUMBER_RE = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const MISSING = new Set(['', 'NA', 'N/A', 'NaN', 'null', 'NULL', '?']);

/**
 * A starting schema built cell by cell (so a file can be read in chunks): numbers (integer when all
 * whole), ISO 8601 dates and date-times, categories when there are few distinct values, strings otherwise; nullable when any cell
 * is missing; unique strings are ids. Distinct texts are only kept while they can still decide the
 * type: a column that looked numeric for more than `maxCategories` distinct values and then turns
 * out to be text is not taken for a unique id.
 */
export class SchemaInferrer {
  private readonly numeric: boolean[];
  private readonly integer: boolean[];
  private readonly datetime: boolean[];
  private readonly nulls: number[];
  private readonly nonNull: number[];
  private readonly distinct: (Set<string> | null)[];
  private readonly repeated: boolean[];
  private readonly capped: boolean[];
  constructor(
    readonly header: string[],
    private readonly maxCategories = 50,
  ) {
    const n = header.length;
    this.numeric = new Array(n).fill(true);
    this.integer = new Array(n).fill(true);
    this.datetime = new Array(n).fill(true);
    this.nulls = new Array(n).fill(0);
    this.nonNull = new Array(n).fill(0);
    this.distinct = Array.from({ length: n }, () => new Set<string>());
    this.repeated = new Array(n).fill(false);
    this.capped = new Array(n).fill(false);
  }

  add(k: number, cell: string): void {
    const t = cell.trim();
    if (MISSING.has(t)) {
      this.nulls[k]++;
      return;
    }
    this.nonNull[k]++;
    if (this.numeric[k] && NUMBER_RE.test(t)) {
      if (this.integer[k] && !Number.isInteger(Number(t))) this.integer[k] = false;
    } else this.numeric[k] = false;
    if (this.datetime[k] && !isDatetime(t)) this.datetime[k] = false;
    const d = this.distinct[k];
    if (d === null) return;
    if (d.has(t)) this.repeated[k] = true;
    else d.add(t);
    if (d.size > this.maxCategories) {
      // while numeric, only "more than maxCategories" matters; for text, only uniqueness is left
      if (this.numeric[k]) {
        this.capped[k] = true;
        d.clear();
        d.add(t);
        this.distinct[k] = d;
      } else if (this.repeated[k] || this.capped[k]) this.distinct[k] = null;
    }
  }

  schema(): Schema {
    const columns: ColumnSpec[] = this.header.map((name, k) => {
      const nullable = this.nulls[k] > 0;
      const base = { name, nullable, role: 'feature' as const };
      const d = this.distinct[k];
      const many = d === null || this.capped[k] || d.size > this.maxCategories;
      if (this.numeric[k] && this.nonNull[k] > 0)
        return { ...base, type: this.integer[k] ? 'integer' : 'number' };
      if (this.datetime[k] && this.nonNull[k] > 0) return { ...base, type: 'datetime' };
      if (!many && d) return { ...base, type: 'category', allowed: [...d].sort() };
      const unique = d !== null && !this.repeated[k] && !this.capped[k];
      return { ...base, type: 'string', ...(unique ? { unique: true, role: 'id' as const } : {}) };
    });
    return { missing_values: [...MISSING], columns };
  }
}

/**
 * A starting schema from text cells: numbers (integer when all whole), categories when there are
 * few distinct values, strings otherwise; nullable when any cell is missing; unique strings are ids.
 */
export function inferSchemaFromRows(header: string[], rows: string[][], maxCategories = 50): Schema {
  const inf = new SchemaInferrer(header, maxCategories);
  for (const row of rows) for (let k = 0; k < header.length; k++) inf.add(k, row[k]);
  return inf.schema();
}

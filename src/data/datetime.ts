/**
 * The `datetime` column type: ISO 8601 dates and date-times, strictly. `YYYY-MM-DD`, or that with
 * `T` or a space and `HH:MM`, optional `:SS` and fraction, and an optional `Z` or `±HH:MM` offset
 * (without one, the time is read as UTC). Stored as milliseconds since 1970-01-01T00:00:00Z in a
 * numeric column, so ranges, profiles and models treat it as a number.
 */
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Epoch milliseconds, or NaN when the text is not a valid ISO 8601 date or date-time. */
export function parseDatetime(text: string): number {
  const m = ISO.exec(text);
  if (!m) return Number.NaN;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const h = m[4] === undefined ? 0 : Number(m[4]);
  const mi = m[5] === undefined ? 0 : Number(m[5]);
  const s = m[6] === undefined ? 0 : Number(m[6]);
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return Number.NaN;
  const t = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const back = new Date(t);
  // 2026-02-30 rolls over to March: refuse it
  if (back.getUTCDate() !== d || back.getUTCMonth() !== mo - 1) return Number.NaN;
  const zone = m[8];
  if (zone === undefined || zone === 'Z') return t;
  const zm = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
  const off = (Number(zm[2]) * 60 + Number(zm[3])) * 60_000;
  if (Number(zm[2]) > 23 || Number(zm[3]) > 59) return Number.NaN;
  return zm[1] === '+' ? t - off : t + off;
}

export function isDatetime(text: string): boolean {
  return !Number.isNaN(parseDatetime(text));
}

/** A bound as the schema's messages show it: ISO 8601 for datetime columns. */
export function boundText(type: string, x: number): string {
  return type === 'datetime' ? new Date(x).toISOString() : String(x);
}

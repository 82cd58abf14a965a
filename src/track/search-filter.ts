/**
 * MLflow's search syntax, parsed to data: a filter is comparisons joined by AND
 * (`metrics.auc > 0.8 and params.model = 'gbdt' and tags.team = 'risk'`), an order-by clause is
 * `metrics.auc DESC`. Keys may be backquoted or double-quoted (`` metrics.`val loss` ``,
 * `tags."user-name"`). Every error is a KeelError (KEEL_E_USAGE) whose message ends with the
 * filter and a caret under the offending character; `details.position` holds its 0-based offset.
 */
import { KeelError } from '../core/errors.js';

export type Entity = 'metric' | 'param' | 'tag' | 'attribute';
export type Comparator = '=' | '!=' | '>' | '>=' | '<' | '<=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';

export interface Comparison {
  entity: Entity;
  key: string;
  op: Comparator;
  value: string | number | string[];
  /** Offset of the comparison's first character in the filter. */
  position: number;
}

export interface OrderKey {
  entity: Entity;
  key: string;
  descending: boolean;
}

const ENTITIES: Record<string, Entity> = {
  metric: 'metric',
  metrics: 'metric',
  param: 'param',
  params: 'param',
  parameter: 'param',
  parameters: 'param',
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
  run: 'attribute',
};

type Token =
  | { kind: 'ident'; text: string; pos: number; quoted: boolean }
  | { kind: 'string'; text: string; pos: number }
  | { kind: 'number'; value: number; text: string; pos: number }
  | { kind: 'op'; text: string; pos: number }
  | { kind: 'punct'; text: '(' | ')' | ',' | '.'; pos: number }
  | { kind: 'end'; pos: number };

/** A KEEL_E_USAGE error whose message shows the input with a caret under position. */
export function searchError(what: string, input: string, position: number, message: string): KeelError {
  const line = input.replace(/[\r\n\t]/g, ' ');
  return new KeelError(
    'KEEL_E_USAGE',
    `invalid ${what} at position ${position + 1}: ${message}\n  ${line}\n  ${' '.repeat(position)}^`,
    { path: [what] },
    { details: { position } },
  );
}

function tokenize(input: string, what: string): Token[] {
  const out: Token[] = [];
  const lastIsDot = () => {
    const t = out.at(-1);
    return t?.kind === 'punct' && t.text === '.';
  };
  let i = 0;
  const fail = (pos: number, msg: string) => searchError(what, input, pos, msg);
  while (i < input.length) {
    const ch = input[i];
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const start = i;
    if (ch === "'" || ch === '"' || ch === '`') {
      let text = '';
      i++;
      for (;;) {
        if (i >= input.length)
          throw fail(
            start,
            `unterminated ${ch === '`' ? 'backquoted key' : 'string'} (missing closing ${ch})`,
          );
        if (input[i] === ch) {
          if (input[i + 1] === ch) {
            text += ch; // a doubled quote stands for itself
            i += 2;
            continue;
          }
          i++;
          break;
        }
        text += input[i++];
      }
      if (ch === '`') out.push({ kind: 'ident', text, pos: start, quoted: true });
      else if (ch === '"' && lastIsDot())
        out.push({ kind: 'ident', text, pos: start, quoted: true }); // tags."user-name"
      else out.push({ kind: 'string', text, pos: start });
      continue;
    }
    const num = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.exec(input.slice(i));
    if (num && (/[\d.]/.test(ch) || /[-+]/.test(ch)) && out.at(-1)?.kind === 'op') {
      out.push({ kind: 'number', value: Number(num[0]), text: num[0], pos: start });
      i += num[0].length;
      continue;
    }
    if (num && /\d/.test(ch) && out.at(-1)?.kind !== 'punct') {
      out.push({ kind: 'number', value: Number(num[0]), text: num[0], pos: start });
      i += num[0].length;
      continue;
    }
    const op = /^(!=|<>|>=|<=|=|>|<)/.exec(input.slice(i));
    if (op) {
      out.push({ kind: 'op', text: op[0] === '<>' ? '!=' : op[0], pos: start });
      i += op[0].length;
      continue;
    }
    if (ch === '(' || ch === ')' || ch === ',' || ch === '.') {
      out.push({ kind: 'punct', text: ch, pos: start });
      i++;
      continue;
    }
    // a word; after "prefix." it may also hold '.', '-', '/' and ':' (metrics.val.loss)
    const afterDot = lastIsDot();
    const word = (afterDot ? /^[A-Za-z0-9_.\-/:]+/ : /^[A-Za-z_][A-Za-z0-9_]*/).exec(input.slice(i));
    if (!word) throw fail(start, `unexpected character "${ch}"`);
    out.push({ kind: 'ident', text: word[0], pos: start, quoted: false });
    i += word[0].length;
  }
  out.push({ kind: 'end', pos: input.length });
  return out;
}

class Parser {
  private i = 0;
  constructor(
    private readonly input: string,
    private readonly what: string,
    private readonly tokens: Token[],
    /** false: any attribute name, values unchecked (registry and experiment searches check them). */
    private readonly runs = true,
  ) {}

  peek(): Token {
    return this.tokens[this.i];
  }
  next(): Token {
    return this.tokens[this.i++];
  }
  fail(pos: number, msg: string): KeelError {
    return searchError(this.what, this.input, pos, msg);
  }
  isWord(t: Token, word: string): boolean {
    return t.kind === 'ident' && !t.quoted && t.text.toUpperCase() === word;
  }

  /** entity.key, or a bare attribute name (`status`, `name`). */
  identifier(): { entity: Entity; key: string; pos: number } {
    const t = this.next();
    if (t.kind !== 'ident' || t.quoted)
      throw this.fail(
        t.pos,
        `expected a key such as metrics.auc, params.model, tags.team or attributes.status`,
      );
    const dot = this.peek();
    if (dot.kind !== 'punct' || dot.text !== '.') return { entity: 'attribute', key: t.text, pos: t.pos };
    const entity = ENTITIES[t.text.toLowerCase()];
    if (!entity)
      throw this.fail(t.pos, `unknown key type "${t.text}": use metrics., params., tags. or attributes.`);
    this.next();
    const k = this.next();
    if (k.kind !== 'ident') throw this.fail(k.pos, `expected a key name after "${t.text}."`);
    return { entity, key: k.text, pos: t.pos };
  }

  comparison(): Comparison {
    const id = this.identifier();
    const t = this.next();
    let op: Comparator;
    if (t.kind === 'op') op = t.text as Comparator;
    else if (t.kind === 'ident' && ['LIKE', 'ILIKE', 'IN'].some((w) => this.isWord(t, w)))
      op = t.text.toUpperCase() as Comparator;
    else if (this.isWord(t, 'NOT') && this.isWord(this.peek(), 'IN')) {
      this.next();
      op = 'NOT IN';
    } else throw this.fail(t.pos, 'expected a comparator (=, !=, >, >=, <, <=, LIKE, ILIKE, IN, NOT IN)');
    const v = this.peek();
    let value: Comparison['value'];
    if (op === 'IN' || op === 'NOT IN') {
      if (v.kind !== 'punct' || v.text !== '(') throw this.fail(v.pos, `expected "(" after ${op}`);
      this.next();
      value = [];
      for (;;) {
        const s = this.next();
        if (s.kind !== 'string') throw this.fail(s.pos, 'expected a quoted string in the list');
        value.push(s.text);
        const sep = this.next();
        if (sep.kind === 'punct' && sep.text === ')') break;
        if (sep.kind !== 'punct' || sep.text !== ',') throw this.fail(sep.pos, 'expected "," or ")"');
      }
    } else if (v.kind === 'string') {
      this.next();
      value = v.text;
    } else if (v.kind === 'number') {
      this.next();
      value = v.value;
    } else
      throw this.fail(
        v.pos,
        v.kind === 'end'
          ? 'expected a value, found the end of the filter'
          : 'expected a quoted string or a number',
      );
    if (this.runs) checkValue(this, id, op, value, v.pos);
    else if (typeof value === 'number' && (op === 'LIKE' || op === 'ILIKE'))
      throw this.fail(v.pos, `${op} compares with a quoted pattern`);
    return { entity: id.entity, key: id.key, op, value, position: id.pos };
  }

  filter(): Comparison[] {
    const out: Comparison[] = [];
    if (this.peek().kind === 'end') return out;
    for (;;) {
      out.push(this.comparison());
      const t = this.next();
      if (t.kind === 'end') return out;
      if (this.isWord(t, 'AND')) continue;
      if (this.isWord(t, 'OR')) throw this.fail(t.pos, 'OR is not supported: join conditions with AND');
      throw this.fail(t.pos, 'expected AND or the end of the filter');
    }
  }
}

const STRING_ATTRS = new Set(['run_id', 'run_name', 'status', 'lifecycle_stage']);
const TIME_ATTRS = new Set(['start_time', 'end_time']);
const ATTR_ALIASES: Record<string, string> = {
  run_uuid: 'run_id',
  id: 'run_id',
  name: 'run_name',
  created: 'start_time',
};
const STATUSES = new Set(['RUNNING', 'FINISHED', 'FAILED', 'KILLED', 'SCHEDULED']);

/** The canonical attribute name (run_id, run_name, status, lifecycle_stage, start_time, end_time). */
export function attributeName(key: string): string {
  return ATTR_ALIASES[key] ?? key;
}

function checkValue(
  p: Parser,
  id: { entity: Entity; key: string; pos: number },
  op: Comparator,
  value: Comparison['value'],
  pos: number,
): void {
  const numericOp = op === '>' || op === '>=' || op === '<' || op === '<=';
  const textOp = op === 'LIKE' || op === 'ILIKE' || op === 'IN' || op === 'NOT IN';
  if (id.entity === 'metric') {
    if (textOp)
      throw p.fail(pos - 1, `${op} does not apply to metrics; compare them with =, !=, <, <=, > or >=`);
    if (typeof value !== 'number')
      throw p.fail(pos, `metrics.${id.key} is compared with a number, not a string`);
    return;
  }
  if (id.entity === 'param' || id.entity === 'tag') {
    if (typeof value === 'number')
      throw p.fail(pos, `${id.entity}s.${id.key} is a string: quote the value ('${value}')`);
    if (numericOp)
      throw p.fail(pos, `${op} does not apply to ${id.entity}s; use =, !=, LIKE, ILIKE, IN or NOT IN`);
    return;
  }
  const attr = attributeName(id.key);
  if (TIME_ATTRS.has(attr)) {
    if (typeof value !== 'number' || textOp)
      throw p.fail(pos, `attributes.${attr} is compared with a number of milliseconds since the epoch`);
    return;
  }
  if (!STRING_ATTRS.has(attr))
    throw p.fail(
      id.pos,
      `unknown attribute "${id.key}": use run_id, run_name, status, lifecycle_stage, start_time or end_time`,
    );
  if (typeof value === 'number') throw p.fail(pos, `attributes.${attr} is a string: quote the value`);
  if (numericOp) throw p.fail(pos, `${op} does not apply to attributes.${attr}`);
  if (attr === 'status' && (op === '=' || op === '!=') && !STATUSES.has(value as string))
    throw p.fail(pos, `status is one of RUNNING, FINISHED, FAILED, KILLED (got '${value}')`);
}

/** Parse a filter; an empty or blank filter matches every run. */
export function parseFilter(filter: string | undefined | null): Comparison[] {
  if (filter == null || filter.trim() === '') return [];
  return new Parser(filter, 'filter', tokenize(filter, 'filter')).filter();
}

/**
 * Parse a filter over other entities (experiments, registered models, model versions): the same
 * syntax, any bare attribute name, values unchecked; `what` names it in errors.
 */
export function parseEntityFilter(filter: string | undefined | null, what = 'filter'): Comparison[] {
  if (filter == null || filter.trim() === '') return [];
  return new Parser(filter, what, tokenize(filter, what), false).filter();
}

/** Parse one order-by clause such as `metrics.auc DESC` or `attributes.start_time`. */
export function parseOrderBy(clause: string): OrderKey {
  const p = new Parser(clause, 'order_by', tokenize(clause, 'order_by'));
  const id = p.identifier();
  let descending = false;
  const t = p.next();
  if (p.isWord(t, 'DESC')) descending = true;
  else if (!p.isWord(t, 'ASC') && t.kind !== 'end') throw p.fail(t.pos, 'expected ASC, DESC or the end');
  if (t.kind !== 'end') {
    const e = p.next();
    if (e.kind !== 'end') throw p.fail(e.pos, 'expected the end of the order-by clause');
  }
  if (id.entity === 'attribute') {
    const attr = attributeName(id.key);
    if (!STRING_ATTRS.has(attr) && !TIME_ATTRS.has(attr))
      throw p.fail(
        id.pos,
        `unknown attribute "${id.key}": order by start_time, end_time, run_name, status or run_id`,
      );
    return { entity: 'attribute', key: attr, descending };
  }
  return { entity: id.entity, key: id.key, descending };
}

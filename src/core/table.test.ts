import { describe, expect, it } from 'vitest';
import { renderTable } from './table.js';

describe('renderTable', () => {
  it('aligns columns, right-aligns numeric columns and shows null as -', () => {
    const t = renderTable(
      ['name', 'n'],
      [
        ['a', 1],
        ['long name', 12.345678],
        ['c', null],
      ],
    );
    expect(t.split('\n')).toEqual([
      'name             n',
      '---------  -------',
      'a                1',
      'long name  12.3457',
      'c                -',
    ]);
  });
});

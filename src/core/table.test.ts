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

  it('keeps small numbers visible, shows non-finite ones, and left-aligns mixed columns', () => {
    expect(
      renderTable(['v'], [[0.00001234], [-0.5], [Number.NaN], [Number.POSITIVE_INFINITY]]).split('\n'),
    ).toEqual(['       v', '--------', '1.234e-5', '    -0.5', '     NaN', 'Infinity']);
    expect(
      renderTable(
        ['k', 'v'],
        [
          ['a', 1],
          ['b', 'x'],
        ],
      ).split('\n'),
    ).toEqual(['k  v', '-  -', 'a  1', 'b  x']);
  });

  it('renders the header of an empty table', () => {
    expect(renderTable(['run', 'status'], [])).toBe('run  status\n---  ------');
  });
});

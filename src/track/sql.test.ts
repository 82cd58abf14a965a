import { describe, expect, it } from 'vitest';
import { migrations } from './migrations.js';
import { postgresDialect, renderSql, sqliteDialect } from './sql.js';

describe('SQL dialects', () => {
  it('fill every token of every migration, for both dialects', () => {
    for (const m of migrations) {
      const text = (d: 'sqlite' | 'postgres') => (typeof m.sql === 'string' ? m.sql : m.sql[d]);
      const lite = renderSql(text('sqlite'), sqliteDialect);
      const pg = renderSql(text('postgres'), postgresDialect);
      expect(lite).not.toMatch(/\{\{/);
      expect(pg).not.toMatch(/\{\{/);
      expect(pg).not.toMatch(/AUTOINCREMENT|RAISE\(ABORT/);
    }
    const first = migrations[0].sql as string;
    expect(renderSql(first, sqliteDialect)).toContain('INTEGER PRIMARY KEY AUTOINCREMENT');
    expect(renderSql(first, postgresDialect)).toContain('BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY');
    expect(() => renderSql('{{NOPE}}', sqliteDialect)).toThrow(/unknown SQL token/);
  });

  it('turn ? placeholders into $n for PostgreSQL and leave them for SQLite', () => {
    const sql = 'SELECT a FROM t WHERE b = ? AND c IN (?, ?)';
    expect(postgresDialect.placeholders(sql)).toBe('SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)');
    expect(sqliteDialect.placeholders(sql)).toBe(sql);
  });
});

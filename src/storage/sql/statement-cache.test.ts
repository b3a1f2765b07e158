import SQLite from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { withStatementCache } from './statement-cache.js';

describe('withStatementCache', () => {
  it('prepares each SQL text once and reuses it, dropping the least recently used past the limit', () => {
    const database = new SQLite(':memory:');
    let prepared = 0;
    const counting = { prepare: (text: string) => (prepared++, database.prepare(text)), close: () => database.close() };
    const cached = withStatementCache(counting, { limit: 2 });
    const one = cached.prepare('select 1 as n');
    expect(cached.prepare('select 1 as n')).toBe(one);
    expect(prepared).toBe(1);
    const two = cached.prepare('select 2 as n');
    cached.prepare('select 1 as n'); // most recent now: "select 2" is the oldest
    cached.prepare('select 3 as n');
    expect(prepared).toBe(3);
    expect(cached.prepare('select 1 as n')).toBe(one);
    expect(cached.prepare('select 2 as n')).not.toBe(two);
    expect(prepared).toBe(4);
    expect(one.all([])).toEqual([{ n: 1 }]);
    expect(one.all([])).toEqual([{ n: 1 }]);
    cached.close();
    expect(database.open).toBe(false);
  });
});

import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LogDestination } from './log-destination.js';

describe('LogDestination', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('writes every line to a file in order, lines queued during a write going out together', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-logs-'));
    dirs.push(dir);
    const fd = openSync(join(dir, 'out.log'), 'w');
    const logs = new LogDestination(fd);
    const lines = Array.from({ length: 2000 }, (_, i) => `{"msg":"line ${i}","text":"${'é'.repeat(i % 7)}"}\n`);
    for (const line of lines) logs.write(line);
    await logs.close(5000);
    closeSync(fd);
    expect(readFileSync(join(dir, 'out.log'), 'utf8')).toBe(lines.join(''));
  });
});

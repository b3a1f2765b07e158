import { describe, expect, it } from 'vitest';
import { writeBatches } from './write-batch.js';

function recorder(options: { failMany?: boolean; failOne?: (item: number) => boolean; max?: number; retriesAlone?: (error: unknown) => boolean } = {}) {
  const calls: Array<['many', number[]] | ['one', number]> = [];
  const write = writeBatches<number>({
    max: options.max,
    retriesAlone: options.retriesAlone,
    async many(items) {
      calls.push(['many', items]);
      if (options.failMany) throw new Error('batch refused');
    },
    async one(item) {
      calls.push(['one', item]);
      if (options.failOne?.(item)) throw new Error(`item ${item} refused`);
    },
  });
  return { calls, write };
}

describe('writeBatches', () => {
  it('writes what is queued in one turn together, and a lone item alone', async () => {
    const { calls, write } = recorder();
    await Promise.all([write(1), write(2), write(3), write(4)]);
    await write(5);
    expect(calls).toEqual([['many', [1, 2, 3, 4]], ['one', 5]]);
  });

  it('writes in batches of power-of-two sizes, so few statement texts are made', async () => {
    const { calls, write } = recorder();
    await Promise.all(Array.from({ length: 11 }, (_, i) => write(i)));
    expect(calls).toEqual([['many', [0, 1, 2, 3, 4, 5, 6, 7]], ['many', [8, 9]], ['one', 10]]);
  });

  it('settles no caller before its item is written', async () => {
    const { calls, write } = recorder();
    const written: number[] = [];
    const pending = [1, 2].map((n) => write(n).then(() => written.push(n)));
    expect(written).toEqual([]);
    expect(calls).toEqual([]);
    await Promise.all(pending);
    expect(written).toEqual([1, 2]);
  });

  it('falls back to one write per item when the batch fails, so only a bad item’s caller fails', async () => {
    const { calls, write } = recorder({ failMany: true, failOne: (n) => n === 2 });
    const outcomes = await Promise.allSettled([write(1), write(2), write(3), write(4)]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toEqual(new Error('item 2 refused'));
    expect(calls).toEqual([['many', [1, 2, 3, 4]], ['one', 1], ['one', 2], ['one', 3], ['one', 4]]);
  });

  it('gives every caller the batch’s error when it is the database’s, without writing each again', async () => {
    const { calls, write } = recorder({ failMany: true, retriesAlone: (error) => (error as Error).message !== 'batch refused' });
    const outcomes = await Promise.allSettled([write(1), write(2)]);
    expect(outcomes).toEqual([
      { status: 'rejected', reason: new Error('batch refused') },
      { status: 'rejected', reason: new Error('batch refused') },
    ]);
    expect(calls).toEqual([['many', [1, 2]]]);
  });

  it('gives every caller the batch’s error when telling whose failure it is fails too', async () => {
    const { write } = recorder({ failMany: true, retriesAlone: () => {
      throw new Error('cannot tell');
    } });
    const outcomes = await Promise.allSettled([write(1), write(2)]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
  });

  it('writes a full batch at once, past `max`', async () => {
    const { calls, write } = recorder({ max: 2 });
    await Promise.all([write(1), write(2), write(3)]);
    expect(calls).toEqual([['many', [1, 2]], ['one', 3]]);
  });
});

// The workflows' lanes (workflows/lanes.ts), as plain async code: pieces start in index order with
// at most `lanes` at once, a failure stops new starts, `stop` ends a run early with where it stopped.
import assert from 'node:assert/strict';
import { chunked, inLanes } from '../../workflows/lanes';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('workflow lanes', () => {
  it('starts pieces in index order, never more than `lanes` at once, whatever finishes first', async () => {
    const started: number[] = [];
    let running = 0;
    let most = 0;
    const next = await inLanes({ from: 2, to: 9, lanes: 3 }, async (i) => {
      started.push(i);
      most = Math.max(most, ++running);
      await tick((i * 7) % 5);
      running--;
    });
    assert.deepEqual(started, [2, 3, 4, 5, 6, 7, 8]);
    assert.equal(most, 3);
    assert.equal(next, 9);
  });

  it('a failure rejects at once and no lane starts another piece', async () => {
    const started: number[] = [];
    await assert.rejects(
      inLanes({ to: 10, lanes: 2 }, async (i) => {
        started.push(i);
        await tick(i === 1 ? 1 : 20);
        if (i === 1) throw new Error('piece 1 failed');
      }),
      /piece 1 failed/,
    );
    await tick(50);
    assert.deepEqual(started, [0, 1]);
  });

  it('with stopOnFailure off, the other lanes go on after a failure (as lanes recorded in older histories did)', async () => {
    const started: number[] = [];
    await assert.rejects(
      inLanes({ to: 4, lanes: 2, stopOnFailure: false }, async (i) => {
        started.push(i);
        await tick(i === 1 ? 1 : 20);
        if (i === 1) throw new Error('piece 1 failed');
      }),
      /piece 1 failed/,
    );
    await tick(80);
    assert.deepEqual(started, [0, 1, 2, 3]);
  });

  it('stop ends the run early and says which piece is next', async () => {
    let done = 0;
    const next = await inLanes({ to: 10, lanes: 2, stop: () => done >= 4 }, async () => {
      await tick(1);
      done++;
    });
    assert.ok(next >= 4 && next <= 5, `stopped at ${next}`);
    assert.equal(done, next);
  });

  it('chunks items in order, the last one shorter', () => {
    assert.deepEqual(chunked([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
    assert.deepEqual(chunked([], 3), []);
  });
});

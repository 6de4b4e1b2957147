import assert from 'node:assert/strict';
import { emptyQuality, normalise } from '../../domain/analysis/normalise';
import type { NormalisedSession, Series } from '../../domain/analysis/types';
import { analysisWindow, bucketOf, isoUtc, socPointList, timeRangeOf } from '../../domain/analysis/window';
import { cleanFixtures, START, stored } from '../fixtures/sessions';

const T0 = Date.parse(START);
const H = 3_600_000;
const series = (ts: number[], v = 1): Series => ({ t: ts, v: ts.map(() => v) });
const session = (energy: number[], power: number[] = [], soc: number[] = []): NormalisedSession => ({
  energy: series(energy),
  power: series(power),
  soc: series(soc),
  quality: emptyQuality(),
});

describe('bucketOf', () => {
  it('cuts time into 15-second buckets from t0', () => {
    assert.equal(bucketOf(T0, T0), 0);
    assert.equal(bucketOf(T0 + 14_999, T0), 0);
    assert.equal(bucketOf(T0 + 15_000, T0), 1);
    assert.equal(bucketOf(T0 + 6 * H - 1, T0), 1439);
    assert.equal(bucketOf(T0 + 6 * H, T0), 1440);
  });
});

describe('socPointList', () => {
  it('lists the compact overlay as timestamped points, and passes the older list form through', () => {
    const t0 = Date.parse('2026-06-01T00:00:00.250Z');
    assert.deepEqual(socPointList({ t0, buckets: [0, 4], values: [38.7, 40] }), [
      { timestamp: '2026-06-01T00:00:00.250Z', value: 38.7 },
      { timestamp: '2026-06-01T00:01:00.250Z', value: 40 },
    ]);
    const old = [{ timestamp: '2026-06-01T00:00:00Z', value: 1 }];
    assert.deepEqual(socPointList(old), old);
    assert.deepEqual(socPointList(null), []);
  });
});

describe('timeRangeOf', () => {
  it('spans t0 + 15 s·start to t0 + 15 s·(end + 1), in UTC with Z', () => {
    assert.deepEqual(timeRangeOf(T0, 4, 7), { startTimestamp: '2026-02-27T10:01:00Z', endTimestamp: '2026-02-27T10:02:00Z' });
    assert.deepEqual(timeRangeOf(T0, 0, 0), { startTimestamp: '2026-02-27T10:00:00Z', endTimestamp: '2026-02-27T10:00:15Z' });
    assert.deepEqual(timeRangeOf(T0 + 250, 0, 1439), { startTimestamp: '2026-02-27T10:00:00.250Z', endTimestamp: '2026-02-27T16:00:00.250Z' });
  });

  it('prints whole seconds without milliseconds', () => {
    assert.equal(isoUtc(T0), '2026-02-27T10:00:00Z');
    assert.equal(isoUtc(T0 + 5), '2026-02-27T10:00:00.005Z');
  });
});

describe('analysisWindow', () => {
  it('keeps a short session whole, from its first reading', () => {
    const w = analysisWindow(session([T0 + 60_000, T0 + 120_000, T0 + 1_800_000], [T0 + 30_000]));
    assert.equal(w.t0, T0 + 30_000, 't0 is the first timestamp of any series');
    assert.equal(w.tEnd, T0 + 1_800_000);
    assert.equal(w.bucketCount, 119); // (1800 − 30) / 15 + 1
    assert.equal(w.truncated, false);
    assert.equal(w.energy.t.length, 3);
    assert.equal(w.power.t.length, 1);
  });

  it('keeps only the last 6 hours of a longer session (window start = last timestamp − 6 h)', () => {
    const ts = Array.from({ length: 8 * 60 + 1 }, (_, i) => T0 + i * 60_000); // 8 h, one a minute
    const w = analysisWindow(session(ts, ts));
    const last = ts[ts.length - 1];
    assert.equal(w.truncated, true);
    assert.equal(w.tEnd, last);
    assert.equal(w.t0, last - 6 * H);
    assert.equal(w.energy.t[0], last - 6 * H);
    assert.equal(w.energy.t.length, 361);
    assert.equal(w.power.t.length, 361);
    assert.equal(w.bucketCount, 1440, 'at most 1440 buckets, even with a reading exactly 6 h after t0');
  });

  it('starts at the first reading inside the window when none falls on its start', () => {
    const ts = [T0, T0 + 2 * H, T0 + 7 * H + 7_000];
    const w = analysisWindow(session(ts));
    assert.equal(w.truncated, true);
    assert.deepEqual(w.energy.t, [T0 + 2 * H, T0 + 7 * H + 7_000]);
    assert.equal(w.t0, T0 + 2 * H);
    assert.equal(w.bucketCount, bucketOf(T0 + 7 * H + 7_000, T0 + 2 * H) + 1);
  });

  it('measures the 6 hours over every series: a late SoC reading moves the window', () => {
    const w = analysisWindow(session([T0, T0 + 60_000], [], [T0 + 60_000, T0 + 6 * H + 30_000]));
    assert.equal(w.truncated, true);
    assert.equal(w.energy.t.length, 1);
    assert.equal(w.t0, T0 + 60_000);
  });

  it('is empty without readings', () => {
    const w = analysisWindow(session([]));
    assert.equal(w.bucketCount, 0);
    assert.equal(w.truncated, false);
  });

  it('truncates the longer-than-6h fixture to 1440 buckets, and leaves the others whole', () => {
    for (const f of cleanFixtures) {
      const w = analysisWindow(normalise(stored(f.values)));
      assert.equal(w.truncated, f.expect.truncated === true, f.name);
      assert.ok(w.bucketCount <= 1440, f.name);
      if (!w.truncated) assert.equal(w.t0, T0, f.name);
    }
  });

  it('does not alter the session it was given', () => {
    const n = session([T0, T0 + 7 * H]);
    analysisWindow(n);
    assert.deepEqual(n.energy.t, [T0, T0 + 7 * H]);
  });
});

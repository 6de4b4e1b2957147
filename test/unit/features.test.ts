// The one feature extraction of the learned detectors (models/features.ts): shape, the channels
// that carry the contract's evidence, and the SoC independence SORC relies on. Pure: no stack.
import assert from 'node:assert/strict';
import type { AnalysisWindow, Series } from '../../domain/analysis/types';
import { generateSession } from '../../models/training/simulator';
import { prepare } from '../../models/training/corpus';
import { extractFeatures, FEATURE_COUNT, FEATURE_INDEX, FEATURE_NAMES, FEATURE_VERSION, SOC_CHANNELS, SORC_INPUT_CHANNELS, type FeatureName } from '../../models/serving/features';

const T0 = Date.parse('2026-02-27T10:00:00Z');
const MIN = 60_000;

function win(energy: Series, power: Series = { t: [], v: [] }, soc: Series = { t: [], v: [] }): AnalysisWindow {
  const all = [energy, power, soc].filter((s) => s.t.length);
  const t0 = Math.min(...all.map((s) => s.t[0]));
  const tEnd = Math.max(...all.map((s) => s.t[s.t.length - 1]));
  return { t0, tEnd, bucketCount: Math.floor((tEnd - t0) / 15_000) + 1, energy, power, soc, truncated: false, before: { deliveredKwh: 0, charged: false } };
}

/** Readings every minute for `n` minutes, values from f(minute). */
function series(n: number, f: (m: number) => number): Series {
  const t: number[] = [];
  const v: number[] = [];
  for (let m = 0; m < n; m++) {
    t.push(T0 + m * MIN);
    v.push(f(m));
  }
  return { t, v };
}

function channel(fm: { data: Float32Array; bucketCount: number }, name: FeatureName): Float32Array {
  const T = fm.bucketCount;
  return fm.data.subarray(FEATURE_INDEX[name] * T, (FEATURE_INDEX[name] + 1) * T);
}

describe('models/features', () => {
  it('has a version and unique channel names, SORC reading none of the SoC channels', () => {
    assert.match(FEATURE_VERSION, /^evni-features-\d+$/);
    assert.equal(new Set(FEATURE_NAMES).size, FEATURE_COUNT);
    assert.equal(FEATURE_NAMES[0], 'valid');
    for (const c of SOC_CHANNELS) assert.ok(!SORC_INPUT_CHANNELS.includes(FEATURE_INDEX[c]), c);
    assert.equal(SORC_INPUT_CHANNELS.length + SOC_CHANNELS.length, FEATURE_COUNT);
  });

  it('gives a channel-major [F × T] matrix of finite values, valid = 1 on every bucket', () => {
    const s = prepare(generateSession('features-shape', { categories: ['KWH_DECREASE', 'UNEXPECTED_CHARGE_LEVEL_CHANGES'] }));
    const fm = extractFeatures(s.window, s.metadata);
    assert.equal(fm.bucketCount, s.window.bucketCount);
    assert.equal(fm.data.length, FEATURE_COUNT * fm.bucketCount);
    assert.ok(fm.data.every((x) => Number.isFinite(x)));
    assert.ok(channel(fm, 'valid').every((x) => x === 1));
    assert.deepEqual(extractFeatures(s.window, s.metadata).data, fm.data, 'deterministic');
  });

  it('returns an empty matrix for an empty window', () => {
    const fm = extractFeatures({ t0: 0, tEnd: 0, bucketCount: 0, energy: { t: [], v: [] }, power: { t: [], v: [] }, soc: { t: [], v: [] }, truncated: false, before: { deliveredKwh: 0, charged: false } });
    assert.equal(fm.bucketCount, 0);
    assert.equal(fm.data.length, 0);
  });

  it('marks a register dip below its running maximum, and whether and when it recovers', () => {
    // 11 kW for 20 min; minutes 8–9 read 0 (a pit, back at minute 10); from minute 15 on the
    // register restarts at 0 (a reset, never back).
    const e = series(20, (m) => (m === 8 || m === 9 ? 0 : m >= 15 ? (m - 15) * 0.18 : m * 0.18));
    const fm = extractFeatures(win(e, series(20, () => 11)));
    const below = channel(fm, 'e_below');
    const rec = channel(fm, 'dip_recovered');
    const back = channel(fm, 'dip_back');
    const b = (m: number) => m * 4; // bucket of minute m
    assert.equal(below[b(7)], 0);
    assert.equal(below[b(8)], 1);
    assert.equal(below[b(9) + 3], 1);
    assert.equal(below[b(10)], 0);
    assert.equal(rec[b(8)], 1);
    assert.equal(back[b(8)], 1, 'back 2 min after the first reading below: 2 min / 2');
    assert.equal(below[b(15)], 1);
    assert.equal(below[b(19)], 1);
    assert.equal(rec[b(15)], 0);
    assert.equal(back[b(15)], 5, 'never back');
    assert.equal(channel(fm, 'dip_pit_rule')[b(8)], 1, 'back within 2 min: a pit');
    assert.equal(channel(fm, 'dip_pit_rule')[b(15)], 0, 'never back: a decrease');
  });

  it('sees energy that power cannot explain and power that disagrees with the register', () => {
    // Register rises 11 kW worth throughout; power reads 0 in minutes 5–9 and ×3 in minutes 12–16.
    const e = series(20, (m) => m * (11 / 60));
    const p = series(20, (m) => (m >= 5 && m <= 9 ? 0 : m >= 12 && m <= 16 ? 33 : 11));
    const fm = extractFeatures(win(e, p));
    const unexplained = channel(fm, 'e_unexplained');
    const mismatch = channel(fm, 'mismatch_mean');
    assert.equal(unexplained[2 * 4], 0);
    assert.ok(unexplained[6 * 4] > 0.3, `unexplained ${unexplained[6 * 4]}`);
    assert.ok(Math.abs(mismatch[2 * 4]) < 0.1);
    assert.ok(mismatch[13 * 4] > 0.5, `mismatch ${mismatch[13 * 4]}`);
    assert.equal(channel(fm, 'unexplained_rule')[6 * 4], 1);
    assert.equal(channel(fm, 'unexplained_rule')[2 * 4], 0);
    assert.equal(channel(fm, 'mismatch_rule')[13 * 4], 1);
    assert.equal(channel(fm, 'mismatch_rule')[2 * 4], 0);
  });

  it('flags SoC leaving 0–100 and a transient SoC drop', () => {
    const e = series(20, (m) => m * 0.18);
    const soc = series(20, (m) => (m === 5 ? 255 : m >= 10 && m <= 12 ? 20 : 50 + m * 0.5));
    const fm = extractFeatures(win(e, { t: [], v: [] }, soc));
    assert.equal(channel(fm, 's_out')[5 * 4], 1);
    assert.equal(channel(fm, 's_out')[4 * 4], 0);
    assert.ok(channel(fm, 's_bump_temp')[5 * 4] >= 10, 'clipped at 10 (100 points)');
    assert.ok(channel(fm, 's_dip_temp')[11 * 4] > 2);
    assert.equal(channel(fm, 's_dip_temp')[14 * 4], 0);
  });

  it('computes every SORC input channel the same with and without SoC', () => {
    let checked = 0;
    for (const seed of ['sorc-a', 'sorc-b', 'sorc-c', 'sorc-d', 'sorc-e', 'sorc-f']) {
      const s = prepare(generateSession(seed, { current: 'DC' }));
      if (s.window.soc.t.length < 2) continue;
      checked++;
      const a = extractFeatures(s.window, s.metadata);
      const b = extractFeatures({ ...s.window, soc: { t: [], v: [] } }, s.metadata);
      const T = a.bucketCount;
      for (const c of SORC_INPUT_CHANNELS) {
        assert.deepEqual(a.data.subarray(c * T, (c + 1) * T), b.data.subarray(c * T, (c + 1) * T), `${seed} ${FEATURE_NAMES[c]}`);
      }
    }
    assert.ok(checked >= 2, `${checked} sessions with SoC`);
  });
});

// SORC's served trajectory obeys physics (models/serving/sorc.ts): on real ONNX output over simulator
// sessions without SoC it is flat where no energy flows, never falls while energy rises, stays in
// 0–100; the calibration map of postprocess.json (`sorc`) is what `sorcConfidence` reports; the
// per-slice sources of postprocess.json (`sliceSource`) decide the served fusion.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normalise } from '../../domain/analysis/normalise';
import { PhysicsDetector } from '../../domain/analysis/physics-detector';
import { ANOMALY_CATEGORIES, type AnalysisWindow, type AnomalyCategory, type DetectorInput, type SocOverlay } from '../../domain/analysis/types';
import { analysisWindow } from '../../domain/analysis/window';
import { extractFeatures } from '../../models/serving/features';
import { ARTIFACTS_DIR, OnnxDetector } from '../../models/serving/onnx-detector';
import { sourcesFor, type PostprocessConfig, type Source } from '../../models/serving/postprocess';
import { sliceKeys, windowSlices } from '../../models/serving/slices';
import { deliveredPerBucket, fitSorc, reconstruct, sorcOverlay } from '../../models/serving/sorc';
import { iterateCorpus } from '../../models/training/simulator';
import { storedValues } from '../../models/training/export-dataset';

const MIN = 60_000;
const T0 = Date.UTC(2025, 0, 1);

function win(energy: [number, number][], power: [number, number][] = []): AnalysisWindow {
  const all = [...energy, ...power].map(([m]) => T0 + m * MIN);
  const last = Math.max(...all);
  const t0 = Math.min(...all);
  const s = (xs: [number, number][]) => ({ t: xs.map(([m]) => T0 + m * MIN), v: xs.map(([, v]) => v) });
  return { t0, tEnd: last, bucketCount: Math.floor((last - t0) / 15_000) + 1, energy: s(energy), power: s(power), soc: { t: [], v: [] }, truncated: false, before: { deliveredKwh: 0, charged: false } } as AnalysisWindow;
}

/** Sessions of the simulator without SoC, as the analysis windows them. */
function noSocInputs(count: number): DetectorInput[] {
  const out: DetectorInput[] = [];
  for (const sim of iterateCorpus({ seed: 'sorc-unit-1', count: 400, anomalyRate: 0.5 })) {
    const w = analysisWindow(normalise(storedValues(sim)));
    if (w.bucketCount === 0 || w.soc.t.length >= 2 || (w.energy.t.length < 2 && w.power.t.length < 2)) continue;
    out.push({ window: w, metadata: sim.metadata });
    if (out.length >= count) break;
  }
  return out;
}

describe('SORC post-processing (physics fit)', () => {
  it('delivered energy: monotone, pits credit nothing, a reset counts on, jumps are capped', () => {
    // 10 kWh over 10 min, a pit to 0 for 1 min, a reset to 0 that counts on, a 500 kWh jump.
    const w = win(
      [[0, 100], [5, 105], [10, 110], [11, 0], [12, 110], [13, 111], [20, 0], [25, 2], [26, 502], [30, 502]],
      [[0, 60], [30, 60]],
    );
    const D = deliveredPerBucket(w, w.bucketCount, { maxPowerKw: 60 });
    for (let b = 1; b < D.length; b++) assert.ok(D[b] >= D[b - 1] - 1e-12, `bucket ${b}`);
    const at = (m: number) => D[Math.floor((m * MIN) / 15_000)];
    assert.ok(Math.abs(at(10) - 10) < 0.6, `${at(10)}`);
    assert.ok(Math.abs(at(13) - 11) < 0.2, `after the pit ${at(13)}`);
    assert.ok(at(25.9) - at(20) > 1.5, 'the reset counts on');
    // 1 minute at ≤ 1.5 × 60 kW explains at most 1.5 kWh.
    assert.ok(at(27) - at(25.9) <= 1.6, `capped jump ${at(27) - at(25.9)}`);
  });

  it('delivered energy from power where there is no register; standby draws nothing', () => {
    const w = win([], [[0, 0.1], [10, 0.1], [11, 11], [26, 11], [41, 11], [56, 11], [71, 11], [72, 0.05], [120, 0.05]]);
    const D = deliveredPerBucket(w);
    assert.ok(D[Math.floor((10 * MIN) / 15_000) - 1] === 0, 'standby');
    const total = D[D.length - 1];
    assert.ok(Math.abs(total - 11) < 0.5, `${total} kWh`);
  });

  it('fits SoC = s0 + 100·D/C to the network, inside the box, clamped at 100', () => {
    const T = 200;
    const D = Float64Array.from({ length: T }, (_, b) => Math.min(40, b * 0.4));
    // A network that zig-zags around 20 + 2·D (C = 50 kWh) with σ 10.
    const soc = Float32Array.from({ length: T }, (_, b) => 20 + 2 * D[b] + (b % 2 ? 6 : -6));
    const sigma = new Float32Array(T).fill(10);
    const f = fitSorc(soc, sigma, D, T);
    assert.ok(Math.abs(f.s0 - 20) < 1 && Math.abs(100 / f.k - 50) < 3, `${f.s0} ${100 / f.k}`);
    for (let b = 1; b < T; b++) assert.ok(f.soc[b] >= f.soc[b - 1]);
    assert.ok(f.residual > 5 && f.residual < 7);
    // Far above 100 and a slope beyond the smallest battery: clamped to the box and to 100.
    const steep = Float32Array.from({ length: T }, (_, b) => 10 + 50 * D[b]);
    const g = fitSorc(steep, sigma, D, T);
    assert.ok(g.k <= 100 / 5 + 1e-9 && g.s0 >= 0);
    assert.ok(g.soc.every((v) => v >= 0 && v <= 100));
    // No energy at all: flat at the network's weighted mean.
    const flat = fitSorc(Float32Array.from({ length: T }, (_, b) => 40 + (b % 3)), sigma, new Float64Array(T), T);
    assert.ok(flat.soc.every((v) => v === flat.soc[0]) && Math.abs(flat.soc[0] - 41) < 0.5);
  });

  describe('on real ONNX output over simulator sessions without SoC', function () {
    let detector: OnnxDetector;
    let inputs: DetectorInput[];
    before(async () => {
      detector = await OnnxDetector.load();
      inputs = noSocInputs(60);
    });

    it('is flat where no energy flows, never falls while energy rises, stays within 0–100', async () => {
      assert.ok(inputs.length >= 40, `${inputs.length} sessions`);
      const outs = await detector.detectMany(inputs);
      let flatPairs = 0;
      let risingPairs = 0;
      for (const [i, x] of inputs.entries()) {
        const ov = outs[i].soc;
        assert.ok(ov && ov.socReconstructed, `session ${i} has an overlay`);
        const { buckets, values } = ov.reconstructedSoc;
        assert.equal(buckets.length, values.length);
        const D = deliveredPerBucket(x.window, x.window.bucketCount, x.metadata);
        for (let k = 0; k < values.length; k++) {
          assert.ok(values[k] >= 0 && values[k] <= 100, `${values[k]}`);
          if (k === 0) continue;
          const dd = D[buckets[k]] - D[buckets[k - 1]];
          assert.ok(values[k] >= values[k - 1], `session ${i}: falls ${values[k - 1]} → ${values[k]} (energy +${dd.toFixed(3)} kWh)`);
          if (dd === 0) {
            assert.equal(values[k], values[k - 1], `session ${i}: moves without energy`);
            flatPairs++;
          } else risingPairs++;
        }
        // And against the register itself: between two readings the register shows flat, SoC is flat.
        const E = x.window.energy;
        for (let k = 1; k < E.t.length; k++) {
          if (E.v[k] !== E.v[k - 1]) continue;
          const b0 = Math.floor((E.t[k - 1] - x.window.t0) / 15_000);
          const b1 = Math.min(x.window.bucketCount - 1, Math.floor((E.t[k] - x.window.t0) / 15_000));
          const v0 = values[buckets.indexOf(b0)];
          const v1 = values[buckets.indexOf(b1)];
          // Only when the register is flat from b0 to b1 without dips in between (consecutive readings).
          if (v0 !== undefined && v1 !== undefined && D[b1] === D[b0]) assert.equal(v1, v0);
        }
      }
      assert.ok(flatPairs > 100 && risingPairs > 100, `${flatPairs} flat, ${risingPairs} rising`);
    });

    it('applies the calibration map of postprocess.json and reports the band when asked', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sorc-cal-'));
      try {
        cpSync(ARTIFACTS_DIR, dir, { recursive: true });
        const post = JSON.parse(readFileSync(join(dir, 'postprocess.json'), 'utf8')) as PostprocessConfig;
        post.sorc = { confidence: { x: [0, 1], y: [0.123, 0.123] }, band: { coverage: 0.8, scale: 2 } };
        post.version = `${post.version}-sorc-test`;
        writeFileSync(join(dir, 'postprocess.json'), JSON.stringify(post));
        const cal = await OnnxDetector.load({ dir, socBand: true });
        const some = inputs.slice(0, 8);
        const outs = await cal.detectMany(some);
        for (const [i, x] of some.entries()) {
          const ov = outs[i].soc as SocOverlay;
          assert.equal(ov.sorcConfidence, 0.123);
          const band = ov.reconstructedSoc.band!;
          assert.equal(band.length, ov.reconstructedSoc.values.length);
          // Band = 2 × the point's spread.
          const f = extractFeatures(x.window, x.metadata);
          const raw = await cal.sorcRaw(f);
          const r = reconstruct(x.window, x.metadata, f.bucketCount, raw.soc, raw.sigma);
          ov.reconstructedSoc.buckets.forEach((b, k) => assert.ok(Math.abs(band[k] - 2 * r.fit.spread[b]) <= 0.051));
        }
        // The served artifacts: their own map (or the raw confidence before calibration has run).
        const served = detector.postprocess.sorc;
        const x = inputs[0];
        const f = extractFeatures(x.window, x.metadata);
        const raw = await detector.sorcRaw(f);
        const ov = sorcOverlay(x.window, x.metadata, f.bucketCount, raw.soc, raw.sigma, served);
        assert.deepEqual((await detector.detectMany([x]))[0].soc, ov);
        assert.equal(ov.reconstructedSoc.band?.length, ov.reconstructedSoc.values.length, 'the served overlay carries its band');
        assert.equal(sorcOverlay(x.window, x.metadata, f.bucketCount, raw.soc, raw.sigma, served, false).reconstructedSoc.band, undefined, 'and none when not asked');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

describe('per-slice sources', () => {
  it('the slices of a window', () => {
    const w = win([[0, 1.0], [5, 1.1], [10, 1.2], [15, 1.5]]);
    assert.deepEqual(windowSlices(w, { currentType: 'dc' }), { soc: 'no', power: 'no', interval: '1-5m', register: 'coarse', current: 'DC' });
    const v = win([[0, 1.001], [0.5, 1.002], [1, 1.003], [1.5, 1.007]], [[0, 3], [1.5, 3]]);
    assert.deepEqual(windowSlices(v, null), { soc: 'no', power: 'yes', interval: 'le1m', register: 'fine', current: 'unknown' });
  });

  it('the rules-most choice of the session\'s slices, else the category\'s own', () => {
    const source = Object.fromEntries(ANOMALY_CATEGORIES.map((c) => [c, 'learned'])) as Record<AnomalyCategory, Source>;
    const cfg = { source, sliceSource: { KWH_DECREASE: { 'soc=no': 'learned&physics', 'interval=5-15m': 'physics' }, ZERO_SESSION: { 'power=yes': 'learned' } } } as unknown as PostprocessConfig;
    assert.equal(sourcesFor(cfg, ['soc=no', 'interval=le1m']).KWH_DECREASE, 'learned&physics');
    assert.equal(sourcesFor(cfg, ['soc=no', 'interval=5-15m']).KWH_DECREASE, 'physics');
    assert.equal(sourcesFor(cfg, ['soc=yes']).KWH_DECREASE, 'learned');
    assert.equal(sourcesFor(cfg, ['soc=yes']), source, 'unchanged: the same object');
    assert.equal(sourcesFor({ source } as PostprocessConfig, ['soc=no']), source, 'files without slices');
  });

  it('the served detector lets the rules decide on a slice that says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sorc-slices-'));
    try {
      cpSync(ARTIFACTS_DIR, dir, { recursive: true });
      const post = JSON.parse(readFileSync(join(dir, 'postprocess.json'), 'utf8')) as PostprocessConfig;
      post.sliceSource = Object.fromEntries(ANOMALY_CATEGORIES.map((c) => [c, { 'soc=no': 'physics' }]));
      post.version = `${post.version}-slices-test`;
      writeFileSync(join(dir, 'postprocess.json'), JSON.stringify(post));
      const det = await OnnxDetector.load({ dir });
      const physics = new PhysicsDetector();
      const inputs = noSocInputs(30);
      const outs = await det.detectMany(inputs);
      for (const [i, x] of inputs.entries()) {
        assert.ok(sliceKeys(windowSlices(x.window, x.metadata)).includes('soc=no'));
        const cats = (as: { category: string }[]) => [...new Set(as.map((a) => a.category))].sort();
        assert.deepEqual(cats(outs[i].anomalies), cats(physics.detect(x)), `session ${i}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// The committed ONNX artifacts served by onnxruntime-node reproduce the exporter's reference
// outputs (PyTorch, on features exported by the TypeScript pipeline) on fixture sessions, which the
// test regenerates from the simulator by seed and index: same features, same outputs. Also checks
// that batching does not change a session's outputs and that the detector's verdicts stay inside
// the contract. Uses the committed artifacts; trains nothing.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ANOMALY_CATEGORIES } from '../../domain/analysis/types';
import { iterateCorpus, type SimSession } from '../../models/training/simulator';
import { analyseMany } from '../../domain/analysis/analyse';
import { prepare, type PreparedSession } from '../../models/training/corpus';
import { storedValues } from '../../models/training/export-dataset';
import { extractFeatures, FEATURE_COUNT, FEATURE_VERSION, type FeatureMatrix } from '../../models/serving/features';
import { ARTIFACTS_DIR, OnnxDetector, readCards } from '../../models/serving/onnx-detector';
import { ServedDetectorRegistry } from '../../models/serving/detector-registry';
import { config } from '../../config';
import { baseModels } from '../../models/serving/registry';

interface Fixture {
  kind: string;
  id: string;
  index: number;
  T: number;
  categories: string[];
  featureSums: number[];
  featureAbsSums: number[];
  outputs: { 'csar-2': { error: number[] }; 'csar-c-2': { probs: number[] }; sorc: { soc: number[]; sigma: number[] } };
}

interface Reference {
  featureVersion: string;
  corpus: { seed: string; anomalyRate: number; holdout?: 'exclude' | 'vehicles' | 'sampling' | 'behaviour' };
  fixtures: Fixture[];
}

const reference = JSON.parse(readFileSync(join(ARTIFACTS_DIR, 'reference-outputs.json'), 'utf8')) as Reference;

function session(i: number): SimSession {
  let last: SimSession | undefined;
  for (const s of iterateCorpus({ seed: reference.corpus.seed, count: i + 1, anomalyRate: reference.corpus.anomalyRate, holdout: reference.corpus.holdout })) last = s;
  return last!;
}

function close(got: ArrayLike<number>, want: number[], atol: number, rtol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]) - rtol * Math.abs(want[i]);
    if (d > worst) {
      worst = d;
      at = i;
    }
  }
  assert.ok(worst <= atol, `${what}: differs by ${worst} at ${at} (got ${got[at]}, want ${want[at]})`);
}

function tensor(f: FeatureMatrix): ort.Tensor {
  return new ort.Tensor('float32', f.data, [1, FEATURE_COUNT, f.bucketCount]);
}

describe('ONNX parity (onnxruntime-node vs the exporter)', function () {
  const cards = readCards();
  const sessions: Record<string, ort.InferenceSession> = {};
  const fixtures: { fx: Fixture; s: PreparedSession; f: FeatureMatrix }[] = [];

  before(async function () {
    const opts: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1 };
    sessions.csar2 = await ort.InferenceSession.create(join(ARTIFACTS_DIR, cards.csar2.artifact.file), opts);
    sessions.csarC2 = await ort.InferenceSession.create(join(ARTIFACTS_DIR, cards.csarC2.artifact.file), opts);
    sessions.sorc = await ort.InferenceSession.create(join(ARTIFACTS_DIR, cards.sorc.artifact.file), opts);
    for (const fx of reference.fixtures) {
      const s = prepare(session(fx.index));
      fixtures.push({ fx, s, f: extractFeatures(s.window, s.metadata) });
    }
  });

  it('artifacts, cards and reference share this build’s feature version', function () {
    assert.equal(reference.featureVersion, FEATURE_VERSION);
    for (const c of [cards.csar2, cards.csarC2, cards.sorc]) assert.equal(c.featureVersion, FEATURE_VERSION, c.id);
    assert.ok(reference.fixtures.length >= 3, 'fixture sessions');
  });

  it('regenerates the fixture sessions and their features exactly', function () {
    for (const { fx, s, f } of fixtures) {
      assert.equal(s.sim.id, fx.id);
      assert.equal(f.bucketCount, fx.T, fx.id);
      const sums: number[] = [];
      const abs: number[] = [];
      for (let c = 0; c < FEATURE_COUNT; c++) {
        let a = 0;
        let b = 0;
        for (const x of f.data.subarray(c * f.bucketCount, (c + 1) * f.bucketCount)) {
          a += x;
          b += Math.abs(x);
        }
        sums.push(a);
        abs.push(b);
      }
      close(sums, fx.featureSums, 1e-3, 1e-5, `${fx.id} feature sums`);
      close(abs, fx.featureAbsSums, 1e-3, 1e-5, `${fx.id} feature |sums|`);
    }
  });

  it('CSAR-2, CSAR-C-2 and SORC reproduce the reference outputs', async function () {
    for (const { fx, f } of fixtures) {
      const ae = await sessions.csar2.run({ features: tensor(f) });
      close(ae.error.data as Float32Array, fx.outputs['csar-2'].error, 1e-4, 1e-4, `${fx.id} CSAR-2 error`);
      const clf = await sessions.csarC2.run({ features: tensor(f) });
      close(clf.probs.data as Float32Array, fx.outputs['csar-c-2'].probs, 1e-4, 1e-4, `${fx.id} CSAR-C-2 probs`);
      if (clf.error) close(clf.error.data as Float32Array, fx.outputs['csar-2'].error, 1e-4, 1e-4, `${fx.id} CSAR-C-2 error`);
      const so = await sessions.sorc.run({ features: tensor(f) });
      close(so.soc.data as Float32Array, fx.outputs.sorc.soc, 1e-3, 1e-4, `${fx.id} SORC soc`);
      close(so.sigma.data as Float32Array, fx.outputs.sorc.sigma, 1e-3, 1e-4, `${fx.id} SORC sigma`);
    }
  });

  it('gives a session the same outputs alone and batched with longer ones', async function () {
    const det = await OnnxDetector.load({ fusion: false });
    const feats = fixtures.map((x) => x.f);
    const batched = await det.inferFeatures(feats);
    for (let i = 0; i < feats.length; i++) {
      const [alone] = await det.inferFeatures([feats[i]]);
      close(batched[i].probs, Array.from(alone.probs), 1e-5, 1e-5, `${fixtures[i].fx.id} batched probs`);
    }
  });

  it('scores exactly alike on one thread and on the service\'s two (config.onnxThreads)', async function () {
    const inputs = fixtures.map(({ s }) => ({ values: storedValues(s.sim), metadata: s.metadata }));
    const one = await analyseMany(inputs, await OnnxDetector.load({ threads: 1 }));
    const two = await analyseMany(inputs, await OnnxDetector.load({ threads: 2 }));
    assert.deepEqual(two, one);
  });

  it('reports anomalies inside the contract, from sessions loaded once', async function () {
    const a = await OnnxDetector.load();
    const b = await OnnxDetector.load();
    assert.equal((a as unknown as { bundle: unknown }).bundle, (b as unknown as { bundle: unknown }).bundle, 'ONNX sessions shared per version');
    for (const { fx, s } of fixtures) {
      const found = await a.detectAsync({ window: s.window, metadata: s.metadata });
      for (const x of found) {
        assert.ok(ANOMALY_CATEGORIES.includes(x.category));
        assert.ok(x.score >= 0 && x.score <= 1 && x.confidence >= 0 && x.confidence <= 1, `${fx.id} ${JSON.stringify(x)}`);
        assert.ok(x.bucketRange.startUnit >= 0 && x.bucketRange.startUnit <= x.bucketRange.endUnit && x.bucketRange.endUnit < s.window.bucketCount);
      }
      if (fx.kind === 'clean') assert.deepEqual(found, [], `${fx.id} is clean`);
    }
  });

  it('analyses sessions together as it does alone, with a SoC overlay only for sessions without SoC', async function () {
    const detector = await new ServedDetectorRegistry({ threads: config.onnxThreads }).forTenant('any tenant');
    const inputs = fixtures.map(({ s }) => ({ values: storedValues(s.sim), metadata: s.metadata }));
    const together = await analyseMany(inputs, detector);
    for (const [i, { fx, s }] of fixtures.entries()) {
      const r = together[i];
      assert.ok(!(r instanceof Error) && r.status === 'active', fx.id);
      if (r instanceof Error || r.status !== 'active') continue;
      assert.match(r.detector, /^csar-c-2/);
      assert.deepEqual((await analyseMany([inputs[i]], detector))[0], r, `${fx.id}: same verdict alone`);
      if (s.window.soc.t.length >= 2) assert.equal(r.soc, undefined, fx.id);
      else {
        assert.ok(r.soc && r.soc.socReconstructed && r.soc.reconstructedSoc.values.length > 0, `${fx.id} SORC overlay`);
        assert.ok(r.soc.sorcConfidence !== null && r.soc.sorcConfidence >= 0 && r.soc.sorcConfidence <= 1);
        assert.equal(r.soc.reconstructedSoc.buckets.length, r.soc.reconstructedSoc.values.length);
        assert.ok(r.soc.reconstructedSoc.values.every((v) => v >= 0 && v <= 100));
      }
    }
  });

  it('lists the base models with the measured metrics', function () {
    const models = baseModels();
    assert.deepEqual(models.map((m) => m.type).sort(), ['csar_2', 'csar_c_2', 'shade', 'sorc']);
    const clf = models.find((m) => m.type === 'csar_c_2')!;
    assert.equal(typeof (clf.metrics as { f1_score?: unknown }).f1_score, 'number');
  });
});

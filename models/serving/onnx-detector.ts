// The learned detector: CSAR-C-2 (per-bucket categories, with CSAR-2's reconstruction error when it
// shares the encoder) and SORC (SoC reconstruction), served by onnxruntime-node.
//
// onnxruntime-node only runs asynchronously, so this is a `BatchDetector` (domain/analysis/types.ts):
// the session actor and batch chunks hand it one or many sessions per call.
//
// ONNX sessions are created once per model version (artifact directory + card versions + feature
// version) and reused by every detector instance and call. Several sessions are scored in one run,
// grouped by length so that padding stays small; the padding is masked inside the graph, so a
// batched session gets the same outputs as a lone one.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { PhysicsDetector } from '../../domain/analysis/physics-detector';
import {
  ANOMALY_CATEGORIES,
  type Anomaly,
  type AnomalyCategory,
  type AnalysisWindow,
  type BatchDetector,
  type DetectorInput,
  type DetectorOutput,
  type SocOverlay,
} from '../../domain/analysis/types';
import { extractFeatures, FEATURE_COUNT, FEATURE_VERSION, type FeatureMatrix } from './features';
import { ARTIFACTS_DIR } from './paths';
import { applyConfidence, decode, defaultPostprocess, sourcesFor, type PostprocessConfig, type Source } from './postprocess';
import { sliceKeys, windowSlices } from './slices';
import { erf, sorcOverlay } from './sorc';

export { ARTIFACTS_DIR };

export interface ModelCard {
  id: string;
  name: string;
  type: string;
  version: string;
  featureVersion: string;
  trainedAt: string;
  encoder?: string;
  outputs: { name: string }[];
  artifact: { file: string };
  [key: string]: unknown;
}

interface Bundle {
  key: string;
  classifier: ort.InferenceSession;
  /** The classifier graph also returns CSAR-2's per-bucket error (shared encoder). */
  classifierHasError: boolean;
  /** CSAR-2 alone, used only when the classifier does not carry it. */
  autoencoder: ort.InferenceSession | null;
  sorc: ort.InferenceSession;
  cards: { csar2: ModelCard; csarC2: ModelCard; sorc: ModelCard };
  post: PostprocessConfig;
}

const bundles = new Map<string, Promise<Bundle>>();

/** How every served ONNX model runs (the session models and SHADE alike). */
export function sessionOptions(threads: number): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // Idle intra-op threads sleep instead of spinning: a spinning thread takes the core PostgreSQL
    // needs (measured: worker CPU per 10,000-session batch 16 s spinning, 10 s not).
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export function readCards(dir = ARTIFACTS_DIR): { csar2: ModelCard; csarC2: ModelCard; sorc: ModelCard } {
  return {
    csar2: readJson<ModelCard>(join(dir, 'csar-2.card.json')),
    csarC2: readJson<ModelCard>(join(dir, 'csar-c-2.card.json')),
    sorc: readJson<ModelCard>(join(dir, 'sorc.card.json')),
  };
}

/**
 * The ONNX sessions of the artifacts in `dir`, created once per model version and thread count and
 * shared. One thread by default: the latency target and the evaluation's timings are per core.
 */
export function loadBundle(dir = ARTIFACTS_DIR, threads = 1, refitting = false): Promise<Bundle> {
  const cards = readCards(dir);
  // Calibration refits post-processing for new models: the old file may belong to the models before.
  const post = refitting ? defaultPostprocess() : readPostprocess(dir);
  for (const c of [cards.csar2, cards.csarC2, cards.sorc, post]) {
    if (c.featureVersion !== FEATURE_VERSION) {
      throw new Error(`models in ${dir} need features ${c.featureVersion}, this build extracts ${FEATURE_VERSION}: retrain (models/training/train.sh)`);
    }
  }
  const key = [dir, threads, refitting, cards.csar2.version, cards.csar2.trainedAt, cards.csarC2.version, cards.csarC2.trainedAt, cards.sorc.trainedAt, post.version].join('|');
  let b = bundles.get(key);
  if (!b) {
    b = (async () => {
      const classifierHasError = cards.csarC2.outputs.some((o) => o.name === 'error');
      const [classifier, sorc, autoencoder] = await Promise.all([
        ort.InferenceSession.create(join(dir, cards.csarC2.artifact.file), sessionOptions(threads)),
        ort.InferenceSession.create(join(dir, cards.sorc.artifact.file), sessionOptions(threads)),
        classifierHasError ? Promise.resolve(null) : ort.InferenceSession.create(join(dir, cards.csar2.artifact.file), sessionOptions(threads)),
      ]);
      return { key, classifier, classifierHasError, autoencoder, sorc, cards, post };
    })();
    b.catch(() => bundles.delete(key));
    bundles.set(key, b);
  }
  return b;
}

/** postprocess.json of the artifacts, or neutral defaults before models/training/calibrate.ts has run. */
export function readPostprocess(dir = ARTIFACTS_DIR): PostprocessConfig {
  const path = join(dir, 'postprocess.json');
  return existsSync(path) ? readJson<PostprocessConfig>(path) : defaultPostprocess();
}

export function artifactsPresent(dir = ARTIFACTS_DIR): boolean {
  return ['csar-2.card.json', 'csar-c-2.card.json', 'sorc.card.json', 'postprocess.json'].every((f) => existsSync(join(dir, f)));
}

/** Raw model outputs of one session. */
export interface LearnedOutputs {
  T: number;
  /** [C × T] category probabilities. */
  probs: Float32Array;
  /** [T] CSAR-2 reconstruction error, or null. */
  error: Float32Array | null;
}


export interface DetectorOptions {
  dir?: string;
  /**
   * Use the per-category sources of postprocess.json (physics beside the learned models where the
   * validation showed it helps). false: the learned models alone.
   */
  fusion?: boolean;
  /** Threads per inference (see `loadBundle`). */
  threads?: number;
  /** Add the per-point uncertainty band (`reconstructedSoc.band`, see models/serving/sorc.ts) to SORC's overlay (default). */
  socBand?: boolean;
  /** For calibrate.ts: ignore postprocess.json (it is being refitted, perhaps for older models). */
  refitting?: boolean;
}

export class OnnxDetector implements BatchDetector {
  readonly name: string;
  readonly version: string;
  private readonly physics = new PhysicsDetector();

  private constructor(
    private readonly bundle: Bundle,
    private readonly fusion: boolean,
    private readonly socBand = true,
  ) {
    this.name = fusion ? 'csar-c-2+physics' : 'csar-c-2';
    this.version = `${bundle.cards.csarC2.version}/${bundle.post.version}`;
  }

  static async load(opts: DetectorOptions = {}): Promise<OnnxDetector> {
    return new OnnxDetector(await loadBundle(opts.dir, opts.threads, opts.refitting), opts.fusion ?? true, opts.socBand ?? true);
  }

  get cards(): Bundle['cards'] {
    return this.bundle.cards;
  }

  get postprocess(): PostprocessConfig {
    return this.bundle.post;
  }

  /** Anomalies of one session (no SoC overlay): what the evaluation times. */
  async detectAsync(input: DetectorInput): Promise<Anomaly[]> {
    return (await this.detectBatchAsync([input]))[0];
  }

  /**
   * The served verdicts: anomalies of every session, plus SORC's overlay for those without SoC. A
   * session whose every category is decided by the rules (its slices' sources, see calibrate.ts)
   * skips the classifier: what it would say is not used.
   */
  async detectMany(inputs: DetectorInput[]): Promise<DetectorOutput[]> {
    const srcs = inputs.map((x) => (this.fusion ? this.sourcesOf(x) : null));
    const learnedNeeded = srcs.map((src) => !src || !ANOMALY_CATEGORIES.every((c) => src[c] === 'physics'));
    const socNeeded = inputs.map((x) => needsSorc(x.window));
    const feats = inputs.map((x, i) => (learnedNeeded[i] || socNeeded[i] ? extractFeatures(x.window, x.metadata) : null));
    const learnedIdx = inputs.map((_, i) => i).filter((i) => learnedNeeded[i]);
    const learned = await this.inferFeatures(learnedIdx.map((i) => feats[i]!));
    const outs = new Map(learnedIdx.map((i, k) => [i, learned[k]]));
    const socIdx = inputs.map((_, i) => i).filter((i) => socNeeded[i]);
    const socs = await this.runGrouped(this.bundle.sorc, socIdx.map((i) => feats[i]!));
    const overlay = new Map(socIdx.map((i, k) => [i, this.overlay(inputs[i].window, inputs[i].metadata, feats[i]!.bucketCount, socs[k].soc, socs[k].sigma)]));
    return inputs.map((x, i) => {
      const out = outs.get(i);
      const anomalies = out ? this.anomaliesFrom(x, out, srcs[i] ?? undefined) : fuse([], this.physicsOf(x), srcs[i]!);
      const soc = overlay.get(i);
      return soc ? { anomalies, soc } : { anomalies };
    });
  }

  /** Several sessions in one ONNX run (padded to the longest; the padding is masked in the graph). */
  async detectBatchAsync(inputs: DetectorInput[]): Promise<Anomaly[][]> {
    const feats = inputs.map((x) => extractFeatures(x.window, x.metadata));
    const outs = await this.inferFeatures(feats);
    return inputs.map((x, i) => this.anomaliesFrom(x, outs[i]));
  }

  /**
   * Model outputs → anomalies, with physics beside them per postprocess.json's sources: the
   * category's own, or where the session's observable slices (models/serving/slices.ts) have a
   * choice of their own, that one.
   */
  anomaliesFrom(input: DetectorInput, out: LearnedOutputs, sources?: Record<AnomalyCategory, Source>): Anomaly[] {
    const w = input.window;
    if (out.T === 0) return [];
    const post = this.bundle.post;
    if (!this.fusion) return decode(out.probs, out.T, w.t0, post, out.error).anomalies;
    const src = sources ?? this.sourcesOf(input);
    const learned = decode(out.probs, out.T, w.t0, post, out.error, true, src).anomalies;
    if (ANOMALY_CATEGORIES.every((c) => src[c] === 'learned')) return learned;
    return fuse(learned, this.physicsOf(input), src);
  }

  /** The rules' anomalies, their confidence mapped as validation calibrated it. */
  private physicsOf(input: DetectorInput): Anomaly[] {
    return this.physics.detect(input).map((a) => ({ ...a, confidence: round3(applyConfidence(this.bundle.post.physicsConfidence?.[a.category], a.confidence)) }));
  }

  /** Per category, the source of the verdict for this session (its slices decide where they have a choice). */
  sourcesOf(input: DetectorInput): Record<AnomalyCategory, Source> {
    const post = this.bundle.post;
    return post.sliceSource ? sourcesFor(post, sliceKeys(windowSlices(input.window, input.metadata))) : post.source;
  }

  /** SORC's raw outputs → the served overlay (physics fit, calibrated confidence; see sorc.ts). */
  overlay(window: AnalysisWindow, metadata: Record<string, unknown> | null | undefined, T: number, soc: Float32Array, sigma: Float32Array): SocOverlay {
    return sorcOverlay(window, metadata, T, soc, sigma, this.bundle.post.sorc, this.socBand);
  }

  /** Runs CSAR-C-2 (and CSAR-2 when separate) on feature matrices. */
  async inferFeatures(feats: FeatureMatrix[]): Promise<LearnedOutputs[]> {
    const b = this.bundle;
    const probs = await this.runGrouped(b.classifier, feats);
    const errors = b.classifierHasError ? probs : b.autoencoder ? await this.runGrouped(b.autoencoder, feats) : null;
    return feats.map((f, i) => ({
      T: f.bucketCount,
      probs: f.bucketCount === 0 ? new Float32Array(0) : probs[i].probs,
      error: f.bucketCount === 0 || !errors ? null : errors[i].error,
    }));
  }

  /**
   * Runs a model over sessions in groups of similar length (padding costs compute), and cuts each
   * output of shape [N, (K,) Tmax] back to the session's own T buckets, per output name.
   */
  private async runGrouped(model: ort.InferenceSession, feats: FeatureMatrix[]): Promise<Record<string, Float32Array>[]> {
    const result: Record<string, Float32Array>[] = feats.map(() => ({}));
    const order = feats.map((f, i) => i).filter((i) => feats[i].bucketCount > 0);
    order.sort((a, b) => feats[a].bucketCount - feats[b].bucketCount);
    for (let g = 0; g < order.length; ) {
      let end = g + 1;
      while (end < order.length && end - g < MAX_GROUP && feats[order[end]].bucketCount <= feats[order[g]].bucketCount * MAX_PADDING) end++;
      const group = order.slice(g, end).map((i) => feats[i]);
      const { tensor, Tmax } = batchTensor(group);
      const out = await model.run({ features: tensor });
      for (const [name, t] of Object.entries(out)) {
        const data = t.data as Float32Array;
        const K = t.dims.length === 3 ? t.dims[1] : 1;
        group.forEach((f, k) => {
          const T = f.bucketCount;
          // A session as long as the group's longest has its K rows back to back: one copy.
          if (T === Tmax) {
            result[order[g + k]][name] = data.slice(k * K * Tmax, (k + 1) * K * Tmax);
            return;
          }
          const cut = new Float32Array(K * T);
          for (let c = 0; c < K; c++) cut.set(data.subarray((k * K + c) * Tmax, (k * K + c) * Tmax + T), c * T);
          result[order[g + k]][name] = cut;
        });
      }
      g = end;
    }
    return result;
  }

  /**
   * SORC: the SoC trajectory of a session without (enough) SoC, as a separate overlay — never fed
   * back into the readings the detector analyses.
   */
  async reconstructSoc(window: AnalysisWindow, features?: FeatureMatrix, metadata?: Record<string, unknown> | null): Promise<SocOverlay> {
    if (!needsSorc(window)) return { socReconstructed: false, reconstructedSoc: { t0: window.t0, buckets: [], values: [] }, sorcConfidence: null };
    const f = features ?? extractFeatures(window, metadata);
    const { soc, sigma } = await this.sorcRaw(f);
    return this.overlay(window, metadata, f.bucketCount, soc, sigma);
  }

  /** Raw SORC outputs (evaluation). */
  async sorcRaw(f: FeatureMatrix): Promise<{ soc: Float32Array; sigma: Float32Array }> {
    const { tensor } = batchTensor([f]);
    const o = await this.bundle.sorc.run({ features: tensor });
    return { soc: o.soc.data as Float32Array, sigma: o.sigma.data as Float32Array };
  }
}

/** Sessions with SoC readings of their own, or nothing to reconstruct from, get no overlay. */
function needsSorc(w: AnalysisWindow): boolean {
  return w.soc.t.length < 2 && w.bucketCount > 0 && (w.energy.t.length >= 2 || w.power.t.length >= 2);
}

/** Sessions per ONNX run, and how much longer than the shortest a session of the group may be. */
const MAX_GROUP = 64;
const MAX_PADDING = 1.25;

/** P(|error| ≤ 10 SoC points) under SORC's raw Gaussian (the network's σ alone, before the physics fit and calibration). */
export function sorcConfidenceOf(sigma: number): number {
  return erf(10 / (sigma * Math.SQRT2));
}

/** [N, F, Tmax] float32, zero padded (the `valid` channel is 0 on padding). */
function batchTensor(feats: FeatureMatrix[]): { tensor: ort.Tensor; Tmax: number } {
  const Tmax = Math.max(...feats.map((f) => f.bucketCount));
  if (feats.length === 1) return { tensor: new ort.Tensor('float32', feats[0].data, [1, FEATURE_COUNT, Tmax]), Tmax };
  const data = new Float32Array(feats.length * FEATURE_COUNT * Tmax);
  feats.forEach((f, k) => {
    const T = f.bucketCount;
    // Channel-major [F × T]: without padding the whole matrix is one copy (groups are of similar
    // length, often equal), else one per channel.
    if (T === Tmax) data.set(f.data, k * FEATURE_COUNT * Tmax);
    else for (let c = 0; c < FEATURE_COUNT; c++) data.set(f.data.subarray(c * T, (c + 1) * T), (k * FEATURE_COUNT + c) * Tmax);
  });
  return { tensor: new ort.Tensor('float32', data, [feats.length, FEATURE_COUNT, Tmax]), Tmax };
}

function overlaps(a: Anomaly, b: Anomaly): boolean {
  return a.bucketRange.startUnit <= b.bucketRange.endUnit && b.bucketRange.startUnit <= a.bucketRange.endUnit;
}

/** Per category, the learned and the physics findings combined as postprocess.json says. */
export function fuse(learned: Anomaly[], physics: Anomaly[], source: Record<AnomalyCategory, string>): Anomaly[] {
  const out: Anomaly[] = [];
  for (const c of ANOMALY_CATEGORIES) {
    const L = learned.filter((a) => a.category === c);
    const P = physics.filter((a) => a.category === c);
    switch (source[c]) {
      case 'physics':
        out.push(...P);
        break;
      case 'learned+physics':
        out.push(...L, ...P.filter((p) => !L.some((l) => overlaps(l, p))));
        break;
      case 'learned&physics':
        out.push(...L.filter((l) => P.some((p) => overlaps(l, p))));
        break;
      default:
        out.push(...L);
    }
  }
  return out.sort((a, b) => a.bucketRange.startUnit - b.bucketRange.startUnit || ANOMALY_CATEGORIES.indexOf(a.category) - ANOMALY_CATEGORIES.indexOf(b.category));
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

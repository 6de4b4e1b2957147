// SHADE-1, the learned daily-profile model (models/training/shade/train_shade.py), served with
// onnxruntime-node: per quarter-hour reconstruction error of the day's profile and the day's error,
// mapped to 0–1 scores by the calibration its card carries (quantiles on clean validation days).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ARTIFACTS_DIR } from '../paths';
import { CONTEXT_SIZE, PROFILE_CHANNELS, PROFILE_VERSION, SLOTS, type Profile } from './profile';
import { sessionOptions } from '../onnx-detector';

export const SHADE_CARD = 'shade-1.card.json';

interface Quantiles {
  q50: number;
  q99: number;
  q999: number;
}

export interface ShadeCard {
  id: string;
  version: string;
  profileVersion: string;
  trainedAt: string;
  artifact: { file: string };
  calibration: { slot: Quantiles; day: Quantiles };
  [key: string]: unknown;
}

export function readShadeCard(dir = ARTIFACTS_DIR): ShadeCard {
  return JSON.parse(readFileSync(join(dir, SHADE_CARD), 'utf8')) as ShadeCard;
}

/** Error → 0–1: 0 at the clean median, 0.5 at the clean 99th percentile, 0.8 at the 99.9th, 1 at ten times that; linear in log(error) between. */
export function calibrated(err: number, q: Quantiles): number {
  const knots: [number, number][] = [
    [q.q50, 0],
    [q.q99, 0.5],
    [q.q999, 0.8],
    [10 * q.q999, 1],
  ];
  if (!(err > knots[0][0])) return 0;
  const lx = Math.log(err);
  for (let i = 1; i < knots.length; i++) {
    const [x0, y0] = knots[i - 1];
    const [x1, y1] = knots[i];
    if (err <= x1) return y0 + ((y1 - y0) * (lx - Math.log(x0))) / Math.max(1e-12, Math.log(x1) - Math.log(x0));
  }
  return 1;
}

export interface ModelScores {
  /** Fault probability per quarter-hour slot (the supervised head). */
  slotProb: Float32Array;
  /** Probability that the day holds a fault. */
  dayProb: number;
  /** Calibrated reconstruction error per slot, 0–1. */
  slotError: Float32Array;
  /** Calibrated reconstruction error of the day, 0–1. */
  dayError: number;
}

/** Station-days scored per onnxruntime run. */
const BATCH = 1024;

export class ShadeModel {
  private constructor(
    readonly card: ShadeCard,
    private readonly session: ort.InferenceSession,
  ) {}

  static async load(dir = ARTIFACTS_DIR, threads = 1): Promise<ShadeModel> {
    const card = readShadeCard(dir);
    if (card.profileVersion !== PROFILE_VERSION) {
      throw new Error(`${SHADE_CARD} needs profile ${card.profileVersion}, this build computes ${PROFILE_VERSION}: retrain (npm run train:shade)`);
    }
    const session = await ort.InferenceSession.create(join(dir, card.artifact.file), sessionOptions(threads));
    return new ShadeModel(card, session);
  }

  /** `shade-1@<trainedAt>`: a retrained model is a new version of the results it produces. */
  get version(): string {
    return `${this.card.id.replace(/^model-/, '')}@${this.card.trainedAt}`;
  }

  /** The graph's outputs as they are (uncalibrated), for parity checks. */
  async raw(profiles: Profile[]): Promise<Record<'slot_prob' | 'day_prob' | 'slot_error' | 'day_error', Float32Array>> {
    const per = PROFILE_CHANNELS * SLOTS;
    const n = profiles.length;
    const x = new Float32Array(n * per);
    const c = new Float32Array(n * CONTEXT_SIZE);
    profiles.forEach((p, k) => {
      x.set(p.x, k * per);
      c.set(p.context, k * CONTEXT_SIZE);
    });
    const r = await this.session.run({
      profile: new ort.Tensor('float32', x, [n, PROFILE_CHANNELS, SLOTS]),
      context: new ort.Tensor('float32', c, [n, CONTEXT_SIZE]),
    });
    return {
      slot_prob: r.slot_prob.data as Float32Array,
      day_prob: r.day_prob.data as Float32Array,
      slot_error: r.slot_error.data as Float32Array,
      day_error: r.day_error.data as Float32Array,
    };
  }

  async score(profiles: Profile[]): Promise<ModelScores[]> {
    const out: ModelScores[] = [];
    for (let i = 0; i < profiles.length; i += BATCH) {
      const chunk = profiles.slice(i, i + BATCH);
      const n = chunk.length;
      const r = await this.raw(chunk);
      const slotProb = r.slot_prob;
      const dayProb = r.day_prob;
      const slotErr = r.slot_error;
      const dayErr = r.day_error;
      const cal = this.card.calibration;
      for (let k = 0; k < n; k++) {
        const slotError = new Float32Array(SLOTS);
        for (let s = 0; s < SLOTS; s++) slotError[s] = calibrated(slotErr[k * SLOTS + s], cal.slot);
        out.push({ slotProb: slotProb.slice(k * SLOTS, (k + 1) * SLOTS), dayProb: dayProb[k], slotError, dayError: calibrated(dayErr[k], cal.day) });
      }
    }
    return out;
  }
}

// SHADE, the station-level detector behind `ShadeDetector` (domain/shade/types.ts): the
// robust-baseline rules (./rules.ts) decide which findings exist (docs/station-anomaly-types.md);
// the learned daily-profile model SHADE-1 (./model.ts) scores how unusual the day and each
// quarter-hour are — dayScore, and markers inside the findings' ranges.
import type { ShadeDetector, StationDayInput, StationDayResult } from '../../../domain/shade/types';
import { ARTIFACTS_DIR } from '../paths';
import { ShadeModel } from './model';
import { dayProfile, slotOf } from './profile';
import { toResult } from './result';
import { analyseDay } from './rules';

export const RULES_VERSION = 'shade-rules-1';

export { analyseDay, RULES, MIN_SAME_WEEKDAY_DAYS, type Finding } from './rules';
export { MARKER_THRESHOLD, affectedPeriod } from './result';
export { ShadeModel } from './model';

class Shade implements ShadeDetector {
  readonly modelVersion: string;
  constructor(private readonly model: ShadeModel | null) {
    this.modelVersion = model ? `${RULES_VERSION}+${model.version}` : RULES_VERSION;
  }

  async detect(days: StationDayInput[]): Promise<StationDayResult[]> {
    const analyses = days.map(analyseDay);
    if (!this.model) return days.map((d, i) => toResult(d, analyses[i], analyses[i].deviationScore));
    const scores = await this.model.score(days.map((d, i) => dayProfile(d, analyses[i])));
    return days.map((d, i) => {
      const a = analyses[i];
      const s = scores[i];
      let minute: Float32Array | null = null;
      if (a.findings.length) {
        // The model's quarter-hour scores onto the minutes (only read inside findings' ranges).
        minute = new Float32Array(d.minutes);
        for (let m = 0; m < d.minutes; m++) {
          const k = slotOf(m, d.minutes);
          minute[m] = (s.slotProb[k] + s.slotError[k]) / 2;
        }
      }
      // The learned day score: the fault head's probability and the calibrated reconstruction error,
      // averaged (chosen on validation: models/EVALUATION.md, "SHADE"). toResult keeps it at least
      // the strongest finding's score.
      return toResult(d, a, (s.dayProb + s.dayError) / 2, minute);
    });
  }
}

export interface ShadeOptions {
  /** onnxruntime intra-op threads (1 by default: the benchmark's figures are per core). */
  threads?: number;
  /** The rules alone, without the learned model (evaluation baselines). */
  rulesOnly?: boolean;
  /** Artifact directory (tests, retraining). */
  dir?: string;
}

/** The detector with SHADE-1; fails when its artifact is missing or was trained on another profile version. */
export async function loadShadeDetector(opts: ShadeOptions = {}): Promise<ShadeDetector> {
  if (opts.rulesOnly) return new Shade(null);
  return new Shade(await ShadeModel.load(opts.dir ?? ARTIFACTS_DIR, opts.threads ?? 1));
}

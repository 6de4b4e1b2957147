// A corpus: many sessions from one seed, a share of them anomalous (one to three categories each),
// the clean ones often built around a look-alike, at a pool of stations that recur as in a real
// network. Session i depends only on (seed, i), the pool size and the hold-out: corpora of different
// sizes share their prefixes.
import { ANOMALY_CATEGORIES, type AnomalyCategory } from '../../../domain/analysis/types';
import { loadVehicles } from './ev-data';
import { Rng, hashSeed, type Seed } from './rng';
import { generateSession } from './session';
import { HOLDOUT, heldOutVehicleIds } from './slices';
import { drawStation, type Station } from './station';
import { LOOKALIKES, type Lookalike, type SimSession } from './types';
import type { Vehicle } from './vehicle';

export interface CorpusOptions {
  seed: Seed;
  count: number;
  /** Share of sessions with at least one anomaly (default 0.5). */
  anomalyRate?: number;
  /** Categories to draw from, uniformly (default: all seven). */
  categories?: AnomalyCategory[];
  /** Share of clean sessions built around a look-alike (default 0.6). */
  lookalikeRate?: number;
  lookalikes?: readonly Lookalike[];
  /** Chance an anomalous session carries one more category (applied twice; default 0.3). */
  comboRate?: number;
  /** Size of the station pool sessions are spread over (default 200). */
  stations?: number;
  startRange?: [number, number];
  vehicles?: Vehicle[];
  idPrefix?: string;
  /**
   * Hold-outs (slices.ts): 'exclude' generates sessions touching none of the held-out parts
   * (training, validation, in-distribution test); 'vehicles', 'sampling' and 'behaviour' generate
   * only sessions inside that held-out part (and none of the other two). Default: no hold-out.
   */
  holdout?: 'exclude' | 'vehicles' | 'sampling' | 'behaviour';
}

/** ZERO_SESSION only combines with what a never-charging session can show. */
const WITH_ZERO: AnomalyCategory[] = ['KWH_DECREASE', 'ENERGY_PIT', 'UNEXPECTED_CHARGE_LEVEL_CHANGES'];

export function compatible(a: AnomalyCategory, b: AnomalyCategory): boolean {
  if (a === b) return false;
  if (a === 'ZERO_SESSION') return WITH_ZERO.includes(b);
  if (b === 'ZERO_SESSION') return WITH_ZERO.includes(a);
  return true;
}

export function* iterateCorpus(o: CorpusOptions): Generator<SimSession> {
  const anomalyRate = o.anomalyRate ?? 0.5;
  const categories = o.categories?.length ? o.categories : ANOMALY_CATEGORIES;
  const lookalikeRate = o.lookalikeRate ?? 0.6;
  const lookalikes = o.lookalikes?.length ? o.lookalikes : LOOKALIKES;
  const comboRate = o.comboRate ?? 0.3;
  const all = o.vehicles ?? loadVehicles();
  const h = o.holdout;
  let vehicles = all;
  let samplingWithin: readonly [number, number] | undefined;
  let samplingAvoid: readonly [number, number] | undefined;
  let wakeDraw: 'always' | 'never' | undefined;
  let allowed = lookalikes;
  let cats = categories;
  if (h) {
    const held = heldOutVehicleIds(all);
    vehicles = all.filter((v) => (h === 'vehicles') === held.has(v.id));
    if (h === 'sampling') samplingWithin = HOLDOUT.samplingMs;
    else samplingAvoid = HOLDOUT.samplingMs;
    wakeDraw = h === 'behaviour' ? 'always' : 'never';
    if (h !== 'behaviour') allowed = lookalikes.filter((l) => l !== HOLDOUT.behaviour);
    // A session with a wake draw charges: no ZERO_SESSION inside the behaviour hold-out.
    else cats = categories.filter((c) => c !== 'ZERO_SESSION');
  }
  const prefix = o.idPrefix ?? `sim-${hashSeed(o.seed).toString(36)}`;
  const pool: Station[] = [];
  const poolSize = Math.max(1, o.stations ?? 200);
  for (let k = 0; k < poolSize; k++) pool.push(drawStation(new Rng(hashSeed(o.seed, 'station', k)), `${prefix.toUpperCase()}-CP${String(k).padStart(4, '0')}`));
  for (let i = 0; i < o.count; i++) {
    const rng = new Rng(hashSeed(o.seed, 'session', i));
    const picked: AnomalyCategory[] = [];
    let lookalike: Lookalike | undefined;
    if (rng.chance(anomalyRate)) {
      picked.push(rng.pick(cats));
      for (let k = 0; k < 2 && rng.chance(comboRate); k++) {
        const options = cats.filter((c) => picked.every((x) => compatible(x, c)));
        if (options.length) picked.push(rng.pick(options));
      }
    } else if (rng.chance(lookalikeRate)) lookalike = rng.pick(allowed);
    yield generateSession(rng, {
      id: `${prefix}-${String(i).padStart(6, '0')}`,
      categories: picked,
      lookalike,
      samplingWithin,
      samplingAvoid,
      wakeDraw,
      station: pool[rng.int(0, poolSize - 1)],
      stationPool: pool,
      vehicles,
      startRange: o.startRange,
    });
  }
}

export function generateCorpus(o: CorpusOptions): SimSession[] {
  return [...iterateCorpus(o)];
}

export interface CorpusSummary {
  sessions: number;
  clean: number;
  anomalous: number;
  meterValues: number;
  /** Sessions carrying the category, and its ranges. */
  perCategory: Record<AnomalyCategory, { sessions: number; ranges: number }>;
  /** Sessions by number of categories ("0" = clean). */
  byCategoryCount: Record<string, number>;
  /** Clean sessions by look-alike ("none" for plain ones). */
  lookalikes: Record<string, number>;
  /** Ranges by "CATEGORY/variant". */
  variants: Record<string, number>;
  current: Record<string, number>;
  /** Sessions by measurand mix, e.g. "energy+power". */
  measurands: Record<string, number>;
  /** Sessions longer than the 6-hour analysis window. */
  longerThanWindow: number;
  readingsPerSession: { min: number; median: number; max: number };
}

export function summariseCorpus(sessions: SimSession[]): CorpusSummary {
  const perCategory = Object.fromEntries(ANOMALY_CATEGORIES.map((c) => [c, { sessions: 0, ranges: 0 }])) as CorpusSummary['perCategory'];
  const s: CorpusSummary = {
    sessions: sessions.length,
    clean: 0,
    anomalous: 0,
    meterValues: 0,
    perCategory,
    byCategoryCount: {},
    lookalikes: {},
    variants: {},
    current: {},
    measurands: {},
    longerThanWindow: 0,
    readingsPerSession: { min: 0, median: 0, max: 0 },
  };
  const inc = (rec: Record<string, number>, key: string) => (rec[key] = (rec[key] ?? 0) + 1);
  const counts: number[] = [];
  for (const x of sessions) {
    counts.push(x.meterValues.length);
    s.meterValues += x.meterValues.length;
    if (x.truth.clean) {
      s.clean++;
      inc(s.lookalikes, x.truth.lookalike ?? 'none');
    } else s.anomalous++;
    inc(s.byCategoryCount, String(x.truth.categories.length));
    for (const c of x.truth.categories) perCategory[c].sessions++;
    for (const r of x.truth.ranges) {
      perCategory[r.category].ranges++;
      inc(s.variants, `${r.category}/${r.variant}`);
    }
    inc(s.current, x.profile.current);
    inc(s.measurands, x.profile.measurands.join('+'));
    if (x.profile.endMs - x.profile.startMs > 6 * 3_600_000) s.longerThanWindow++;
  }
  counts.sort((a, b) => a - b);
  if (counts.length) s.readingsPerSession = { min: counts[0], median: counts[counts.length >> 1], max: counts[counts.length - 1] };
  return s;
}

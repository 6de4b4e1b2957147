// What every injector shares: the trace being corrupted, which readings are already taken by an
// anomaly (so that two injections never blur each other's evidence), and the ground truth so far.
import type { AnomalyCategory } from '../../../../domain/analysis/types';
import type { Rng } from '../rng';
import type { Trace } from '../trace';
import type { Measurand, TruthRange } from '../types';

export type Has = Record<Measurand, boolean>;

export class Injection {
  readonly busyE: Uint8Array;
  readonly busyP: Uint8Array;
  readonly busyS: Uint8Array;
  readonly ranges: TruthRange[] = [];
  /** Power anomalies injected, awaiting their ranges (register anomalies injected later cut into them). */
  readonly pendingPower: { touched: Uint8Array; variant: string; factor: number }[] = [];
  /** Representation the power anomaly needs (W sent as kW must be labelled kW; "one phase as total" has no phase). */
  readonly powerEncoding: { forceKw: boolean; forceTotal: boolean } = { forceKw: false, forceTotal: false };

  constructor(
    readonly rng: Rng,
    readonly tr: Trace,
    readonly has: Has,
    /** The station rating sent as metadata.maxPowerKw. */
    readonly ratingKw: number,
    /** Resolution of the register as it will be sent (kWh). */
    readonly resKwh: number,
    /** AC phases the car charges on (0 on DC). */
    readonly phasesUsed: number,
  ) {
    const n = tr.t.length;
    this.busyE = new Uint8Array(n);
    this.busyP = new Uint8Array(n);
    this.busyS = new Uint8Array(n);
  }

  get n(): number {
    return this.tr.t.length;
  }

  /** KWH_DECREASE/ENERGY_PIT threshold: 0.01 kWh, or the register's resolution if coarser. */
  get dropThresholdKwh(): number {
    return Math.max(0.01, this.resKwh);
  }

  /** Injected values keep this clear of every threshold, so rounding to the resolution cannot undo them. */
  get marginKwh(): number {
    return Math.max(0.01, this.resKwh);
  }

  free(mask: Uint8Array, a: number, b: number): boolean {
    for (let i = Math.max(0, a); i <= Math.min(mask.length - 1, b); i++) if (mask[i]) return false;
    return true;
  }

  claim(mask: Uint8Array, a: number, b: number): void {
    for (let i = Math.max(0, a); i <= Math.min(mask.length - 1, b); i++) mask[i] = 1;
  }

  add(category: AnomalyCategory, startMs: number, endMs: number, severity: number, variant: string): void {
    this.ranges.push({ category, startMs, endMs: Math.max(startMs, endMs), severity: round3(clamp01(severity)), variant });
  }
}

export function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : Number.isFinite(x) ? x : 0;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Highest value of xs[0 … j-1]. */
export function maxBefore(xs: number[], j: number): number {
  let m = -Infinity;
  for (let i = 0; i < j; i++) if (xs[i] > m) m = xs[i];
  return m;
}

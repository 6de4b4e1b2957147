// Charge points: AC 3.7–22 kW on one or three phases, DC 50–350 kW, some DC cabinets shared by
// two connectors (each gets the whole cabinet when alone, half while the neighbour charges).
import type { Rng } from './rng';
import type { CurrentType } from './types';

export interface Station {
  id: string;
  current: CurrentType;
  /** AC: the point's rating; DC: what one connector can get (the whole cabinet when shared). */
  ratedKw: number;
  /** AC supply phases (1 for 3.7/7.4 kW, 3 for 11/22 kW); 3 for DC (unused). */
  phases: 1 | 3;
  connectors: number;
  sharedCabinet: boolean;
  ocppVersion: '1.6' | '2.0.1';
}

export interface StationWish {
  current?: CurrentType;
  threePhase?: boolean;
  sharedCabinet?: boolean;
  ocppVersion?: '1.6' | '2.0.1';
}

const AC_RATINGS: readonly (readonly [number, number])[] = [
  [3.7, 0.1],
  [7.4, 0.2],
  [11, 0.38],
  [22, 0.32],
];
const DC_RATINGS: readonly (readonly [number, number])[] = [
  [50, 0.24],
  [60, 0.06],
  [75, 0.08],
  [100, 0.08],
  [120, 0.1],
  [150, 0.14],
  [180, 0.06],
  [300, 0.12],
  [350, 0.12],
];

export function drawStation(rng: Rng, id: string, wish: StationWish = {}): Station {
  const current = wish.current ?? (wish.sharedCabinet ? 'DC' : wish.threePhase ? 'AC' : rng.chance(0.35) ? 'DC' : 'AC');
  const ocppVersion = wish.ocppVersion ?? (rng.chance(0.25) ? '2.0.1' : '1.6');
  if (current === 'AC') {
    const ratings = wish.threePhase ? AC_RATINGS.filter(([r]) => r >= 11) : AC_RATINGS;
    const ratedKw = rng.weighted(ratings);
    return { id, current, ratedKw, phases: ratedKw >= 11 ? 3 : 1, connectors: rng.int(1, 2), sharedCabinet: false, ocppVersion };
  }
  const ratings = wish.sharedCabinet ? DC_RATINGS.filter(([r]) => r >= 120) : DC_RATINGS;
  const ratedKw = rng.weighted(ratings);
  const sharedCabinet = wish.sharedCabinet ?? (ratedKw >= 120 && rng.chance(0.35));
  return { id, current, ratedKw, phases: 3, connectors: sharedCabinet ? 2 : rng.int(1, 2), sharedCabinet, ocppVersion };
}

/** Does the station satisfy the wish (used to reuse stations of a corpus pool)? */
export function stationFits(s: Station, wish: StationWish): boolean {
  if (wish.current && s.current !== wish.current) return false;
  if (wish.threePhase && !(s.current === 'AC' && s.phases === 3)) return false;
  if (wish.sharedCabinet && !s.sharedCabinet) return false;
  if (wish.ocppVersion && s.ocppVersion !== wish.ocppVersion) return false;
  return true;
}

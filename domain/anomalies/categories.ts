// The anomaly categories as the workspace names them: `anomalyType` is the category's name,
// `anomalyTypeId` its stable numeric id (never reused or renumbered: clients store it), and the
// description is the "meaning" column of docs/anomaly-categories.md (the detection contract).
import type { AnomalyCategory } from '../analysis/types';

export interface CategoryInfo {
  id: number;
  name: AnomalyCategory;
  description: string;
}

export const CATEGORY_INFO: Record<AnomalyCategory, CategoryInfo> = {
  ZERO_SESSION: { id: 1, name: 'ZERO_SESSION', description: 'a session that delivered effectively no energy' },
  KWH_DECREASE: { id: 2, name: 'KWH_DECREASE', description: 'the energy register goes down and stays down (meter reset, rollback, swapped meter)' },
  ENERGY_PIT: { id: 3, name: 'ENERGY_PIT', description: 'a transient hole in the register: it drops (often to 0) and comes back to its previous trajectory' },
  UNEXPECTED_KWH_ACCUMULATE: { id: 4, name: 'UNEXPECTED_KWH_ACCUMULATE', description: 'energy accrues that power cannot explain' },
  INCORRECT_ACTIVE_POWER_REGISTER: {
    id: 5,
    name: 'INCORRECT_ACTIVE_POWER_REGISTER',
    description: "reported power disagrees with the register's slope while both say energy flows",
  },
  UNEXPECTED_CHARGE_LEVEL_CHANGES: { id: 6, name: 'UNEXPECTED_CHARGE_LEVEL_CHANGES', description: 'SoC moves in a way energy cannot explain' },
  CHARGING_EXPECTED: { id: 7, name: 'CHARGING_EXPECTED', description: 'charging stopped or stalled although the vehicle still needed energy' },
};

/** The category a path names, by its id (`2`) or its name (`KWH_DECREASE`); undefined if none. */
export function categoryOf(idOrName: string): CategoryInfo | undefined {
  if (/^\d+$/.test(idOrName)) return Object.values(CATEGORY_INFO).find((c) => c.id === Number(idOrName));
  return (CATEGORY_INFO as Record<string, CategoryInfo>)[idOrName.toUpperCase()];
}

/** `anomalyTypeId` as the reference types it (a string). */
export const typeIdOf = (category: string): string => String((CATEGORY_INFO as Record<string, CategoryInfo>)[category]?.id ?? 0);

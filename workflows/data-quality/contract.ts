// The data-quality workflow's contract: its schedule, input, result and activities. Pure definitions.
// One global Temporal Schedule starts it (not one per tenant): tenants come and go without a
// schedule to create or delete for each, and one run fans out over every tenant with bounded
// parallelism, so the database sees a steady, predictable load however many tenants there are.

export const DATA_QUALITY_SCHEDULE_ID = 'statistics-data-quality';
/** The workflow ids of the schedule's runs start with this (Temporal appends the start time). */
export const DATA_QUALITY_WORKFLOW_ID = 'statistics-data-quality';

export interface DataQualityInput {
  /** Activities running at once (default 2: the machine's cores, shared with the API). */
  parallelism?: number;
  /**
   * Tenants per activity (default 25): one activity per tenant would make a run's cost grow with
   * Temporal round trips rather than with the work, which is a few statements per tenant.
   */
  chunkSize?: number;
}

export interface TenantsRefreshInput {
  tenantIds: string[];
  /** The snapshot's instant (ISO): the workflow's clock, the same for every tenant of one run. */
  at: string;
}

export interface TenantsRefreshResult {
  /** Sessions whose delivered-energy figures the sweep filled. */
  energyFilled: number;
  /** Tenants of the chunk whose refresh failed (the others were stored). */
  failed: string[];
}

export interface DataQualityResult {
  at: string;
  tenants: number;
  energyFilled: number;
}

export interface StatisticsActivities {
  /** Every tenant's id. */
  listStatisticsTenants(): Promise<string[]>;
  /** For each tenant in turn: fills missing or stale session energy, compacts the daily session rollup, then computes and stores its data-quality snapshot. */
  refreshTenantsStatistics(input: TenantsRefreshInput): Promise<TenantsRefreshResult>;
}

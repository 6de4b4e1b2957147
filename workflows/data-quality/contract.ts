// The data-quality workflow's contract: its schedule, input, result and activities. Pure definitions.
// One global Temporal Schedule starts it (not one per tenant): tenants come and go without a
// schedule to create or delete for each, and one run fans out over every tenant with bounded
// parallelism, so the database sees a steady, predictable load however many tenants there are.

export const DATA_QUALITY_SCHEDULE_ID = 'statistics-data-quality';
/** The workflow ids of the schedule's runs start with this (Temporal appends the start time). */
export const DATA_QUALITY_WORKFLOW_ID = 'statistics-data-quality';

export interface DataQualityInput {
  /** Tenants refreshed at once (default 2: the machine's cores, shared with the API). */
  parallelism?: number;
}

export interface TenantRefreshInput {
  tenantId: string;
  /** The snapshot's instant (ISO): the workflow's clock, the same for every tenant of one run. */
  at: string;
}

export interface TenantRefreshResult {
  /** Sessions whose delivered-energy figures the sweep filled. */
  energyFilled: number;
  /** Sessions the 'all' range counted. */
  sessions: number;
}

export interface DataQualityResult {
  at: string;
  tenants: number;
  energyFilled: number;
}

export interface StatisticsActivities {
  /** Every tenant's id. */
  listStatisticsTenants(): Promise<string[]>;
  /** Fills missing or stale session energy, compacts the daily session rollup, then computes and stores the tenant's data-quality snapshot. */
  refreshTenantStatistics(input: TenantRefreshInput): Promise<TenantRefreshResult>;
}

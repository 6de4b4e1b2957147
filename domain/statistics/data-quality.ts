// The `dataQuality` part of `GET /v1/statistics`: how much of a tenant's data arrived with quality
// problems, per kind of finding of the OCPP normalisation (the `quality` of each session, see
// domain/analysis/types.ts), over the last 7 and 30 days and over all time. Computed by the
// scheduled data-quality workflow and stored; requests read the stored snapshot.
import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from '../../db/sql';

/** The counters of `DataQuality` a snapshot reports (the notes are per session, not summed). */
export const QUALITY_FLAGS = ['duplicates', 'conflicts', 'outOfOrder', 'suspiciousUnits', 'clockIssues', 'ignored'] as const;
export type QualityFlag = (typeof QUALITY_FLAGS)[number];

export const RANGES = { '7d': 7, '30d': 30, all: null } as const;
export type RangeName = keyof typeof RANGES;

export interface FlagSummary {
  /** Checked sessions with at least one such finding. */
  sessions: number;
  /** `sessions` ÷ the range's checked sessions (0 without any). */
  rate: number;
  /** Readings concerned, summed over the sessions. */
  readings: number;
}

export interface RangeSnapshot {
  /** Start of the range (null for `all`); the end is the snapshot's `generatedAt`. */
  from: string | null;
  /** Sessions whose occurrence (first reading, or creation without readings) falls in the range. */
  totalSessions: number;
  /** Of those, the sessions whose readings were normalised (analysed or pending with readings): the rates' denominator. */
  checkedSessions: number;
  /** Checked sessions with at least one finding of any kind. */
  sessionsWithIssues: number;
  issueRate: number;
  /** Sessions left pending (fewer than 3 usable readings) and sessions whose analysis failed. */
  pendingSessions: number;
  failedSessions: number;
  flags: Record<QualityFlag, FlagSummary>;
}

export interface DataQualitySnapshot {
  generatedAt: string;
  ranges: Record<RangeName, RangeSnapshot | null>;
}

const SNAKE: Record<QualityFlag, string> = {
  duplicates: 'duplicates',
  conflicts: 'conflicts',
  outOfOrder: 'out_of_order',
  suspiciousUnits: 'suspicious_units',
  clockIssues: 'clock_issues',
  ignored: 'ignored',
};

const round = (x: number) => Math.round(x * 1e6) / 1e6;

/** The snapshot of one tenant at `at`: one pass over its sessions, the three ranges side by side. */
export async function computeDataQuality(em: EntityManager, tenantId: string, at: Date): Promise<DataQualitySnapshot> {
  const occurrence = 's.occurrence_at';
  const value = (flag: QualityFlag) => `coalesce((s.quality->>'${flag}')::int, 0)`;
  const anyFlag = QUALITY_FLAGS.map((f) => `${value(f)} > 0`).join(' or ');
  const starts = Object.entries(RANGES).map(([name, days]) => ({ name: name as RangeName, from: days === null ? null : new Date(at.getTime() - days * 86_400_000) }));
  const columns: string[] = [];
  const params: unknown[] = [];
  for (const [k, r] of starts.entries()) {
    const inRange = r.from ? `${occurrence} >= ?::timestamptz` : 'true';
    const p = () => (r.from ? params.push(r.from.toISOString()) : undefined);
    const agg = (fn: string, alias: string, where: string) => {
      columns.push(`coalesce(${fn} filter (where ${inRange}${where ? ` and ${where}` : ''}), 0)::bigint as r${k}_${alias}`);
      p();
    };
    agg('count(*)', 'total', '');
    agg('count(*)', 'checked', 's.quality is not null');
    agg('count(*)', 'with_issues', `s.quality is not null and (${anyFlag})`);
    agg('count(*)', 'pending', `s.status = 'pending'`);
    agg('count(*)', 'failed', `s.status = 'failed'`);
    for (const f of QUALITY_FLAGS) {
      agg('count(*)', `${SNAKE[f]}_sessions`, `${value(f)} > 0`);
      agg(`sum(${value(f)})`, `${SNAKE[f]}_readings`, '');
    }
  }
  const [row] = await sql(
    em,
    `select ${columns.join(',\n')} from charging_sessions s where s.tenant_id = ? and ${occurrence} < ?::timestamptz`,
    [...params, tenantId, at.toISOString()],
  );
  const ranges = {} as Record<RangeName, RangeSnapshot | null>;
  for (const [k, r] of starts.entries()) {
    const get = (alias: string) => Number(row[`r${k}_${alias}`] ?? 0);
    const checked = get('checked');
    const rate = (n: number) => (checked === 0 ? 0 : round(n / checked));
    const flags = {} as Record<QualityFlag, FlagSummary>;
    for (const f of QUALITY_FLAGS) {
      const sessions = get(`${SNAKE[f]}_sessions`);
      flags[f] = { sessions, rate: rate(sessions), readings: get(`${SNAKE[f]}_readings`) };
    }
    ranges[r.name] = {
      from: r.from ? r.from.toISOString() : null,
      totalSessions: get('total'),
      checkedSessions: checked,
      sessionsWithIssues: get('with_issues'),
      issueRate: rate(get('with_issues')),
      pendingSessions: get('pending'),
      failedSessions: get('failed'),
      flags,
    };
  }
  return { generatedAt: at.toISOString(), ranges };
}

/** Keeps the tenant's latest snapshot (an older one arriving late does not replace a newer one). */
export async function storeDataQuality(em: EntityManager, tenantId: string, snapshot: DataQualitySnapshot): Promise<void> {
  await sql(
    em,
    `insert into data_quality_snapshots (tenant_id, generated_at, ranges) values (?, ?, ?::jsonb)
     on conflict (tenant_id) do update set generated_at = excluded.generated_at, ranges = excluded.ranges
      where data_quality_snapshots.generated_at <= excluded.generated_at`,
    [tenantId, snapshot.generatedAt, JSON.stringify(snapshot.ranges)],
  );
}

/** The tenant's latest stored snapshot, or null before the first run of the workflow. */
export async function loadDataQuality(em: EntityManager, tenantId: string): Promise<DataQualitySnapshot | null> {
  const [row] = await sql(em, 'select generated_at, ranges from data_quality_snapshots where tenant_id = ?', [tenantId]);
  if (!row) return null;
  return { generatedAt: new Date(row.generated_at as string).toISOString(), ranges: row.ranges as DataQualitySnapshot['ranges'] };
}

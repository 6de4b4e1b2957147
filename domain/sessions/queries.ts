// What the session GET endpoints read: the list with its filters, and one session in full.
import type { FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ChargingSession, MeterValue } from '../../entities';
import type { SessionView } from '../../workflows/session/contract';
import type { DataQuality, SocPoints } from '../analysis/types';
import { notFound } from '../errors';
import { sessionView } from './views';

export interface SessionListFilter {
  chargingStationId?: string;
  evseId?: string;
  isAnomaly?: boolean;
  minScore?: number;
  minConfidence?: number;
  /** Sessions whose first reading (or creation, if none) is in [dateFrom, dateTo). */
  dateFrom?: string;
  dateTo?: string;
  page: number;
  pageSize: number;
}

/** A page of the tenant's sessions (the EntityManager's tenant filter scopes it), newest first. */
export async function listSessions(em: EntityManager, q: SessionListFilter): Promise<{ items: ChargingSession[]; total: number }> {
  const where: FilterQuery<ChargingSession> = {};
  if (q.chargingStationId !== undefined) where.station = { stationId: q.chargingStationId };
  if (q.evseId !== undefined) where.evseId = q.evseId;
  if (q.isAnomaly !== undefined) where.isAnomaly = q.isAnomaly;
  if (q.minScore !== undefined) where.anomalyScore = { $gte: q.minScore };
  if (q.minConfidence !== undefined) where.anomalyConfidence = { $gte: q.minConfidence };
  if (q.dateFrom !== undefined || q.dateTo !== undefined) {
    const range: Record<string, Date> = {};
    if (q.dateFrom !== undefined) range.$gte = new Date(q.dateFrom);
    if (q.dateTo !== undefined) range.$lt = new Date(q.dateTo);
    where.$or = [{ startedAt: range }, { startedAt: null, createdAt: range }];
  }
  const [items, total] = await em.findAndCount(ChargingSession, where, {
    populate: ['station'],
    orderBy: { createdAt: 'desc', id: 'desc' },
    limit: q.pageSize,
    offset: (q.page - 1) * q.pageSize,
  });
  return { items, total };
}

export interface SessionDetail {
  view: SessionView;
  meterValues: MeterValue[];
  reconstructedSoc: SocPoints | null;
  sorcConfidence: number | null;
  dataQuality: DataQuality | null;
}

/** One session with every meter value as sent and SORC's overlay; not_found for another tenant's. */
export async function sessionDetail(em: EntityManager, tenantId: string, sessionId: string): Promise<SessionDetail> {
  // The overlay is lazy: lists never load it.
  const session = await em.findOne(ChargingSession, { sessionId, tenant: tenantId }, { populate: ['reconstructedSoc'] });
  if (!session) throw notFound('Session');
  const view = (await sessionView(em, tenantId, session.id))!;
  const meterValues = await em.find(MeterValue, { session }, { orderBy: { timestamp: 'asc', seq: 'asc' } });
  return { view, meterValues, reconstructedSoc: session.reconstructedSoc, sorcConfidence: session.sorcConfidence, dataQuality: session.quality };
}

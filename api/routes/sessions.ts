import type { FilterQuery } from '@mikro-orm/core';
import { ChargingSession, MeterValue, SessionAnomaly, type SessionWritePayload } from '../../entities';
import { validateMeterValues } from '../../domain/analysis/validate';
import { socPointList } from '../../domain/analysis/window';
import { stageWrite, type WriteKind } from '../../domain/sessions/writes';
import { sendSessionWrite } from '../../temporal/sessions';
import { notFound, unprocessable } from '../http-error';
import { defineRoute, type Auth, type HandlerInput } from '../route';
import { ErrorSchema, pageOf, toPage } from '../schemas/common';
import {
  presentListItem,
  presentMeterValue,
  presentSession,
  SessionAppend,
  SessionCreate,
  SessionDetailOut,
  SessionIdParams,
  SessionListItem,
  SessionListQuery,
  SessionOut,
  SessionReplace,
} from '../schemas/sessions';
import type { z } from '../zod';

type AnyInput = HandlerInput<unknown, unknown, unknown, Auth>;

async function loadSession(em: AnyInput['em'], sessionId: string) {
  const session = await em.findOne(ChargingSession, { sessionId }, { populate: ['station'] });
  if (!session) throw notFound('Session');
  return session;
}

async function sessionResponse(em: AnyInput['em'], session: ChargingSession) {
  const anomalies = await em.find(SessionAnomaly, { session });
  return presentSession(session, anomalies);
}

/**
 * POST, PUT and PATCH share this path: validate every reading (422 names index and field, nothing
 * stored), stage the write in PostgreSQL, hand its id to the session actor, answer with the
 * analysis the actor ran.
 */
async function writeSession(
  input: AnyInput,
  kind: WriteKind,
  sessionId: string,
  body: { meterValues: SessionWritePayload['meterValues']; chargingStationId?: string } & Omit<SessionWritePayload, 'meterValues'>,
) {
  const issues = validateMeterValues(body.meterValues, new Date());
  if (issues.length > 0) {
    const errors = issues.map((i) => ({ loc: ['body', 'meterValues', i.index, i.field], msg: i.message }));
    throw unprocessable(`Validation failed at meterValues[${issues[0].index}].${issues[0].field}: ${issues[0].message}`, errors);
  }
  const { chargingStationId, ...payload } = body;
  const t0 = performance.now();
  const staged = await stageWrite(input.em, {
    tenantId: input.auth.tenant.id,
    sessionId,
    stationId: chargingStationId,
    kind,
    payload: payload as SessionWritePayload,
  });
  if (!staged) throw notFound('Session');
  const t1 = performance.now();
  await sendSessionWrite(
    input.deps.temporal,
    {
      taskQueue: input.deps.config.taskQueue,
      quietPeriodMs: input.deps.config.sessionQuietPeriodMs,
      tenantId: input.auth.tenant.id,
      sessionDbId: staged.sessionDbId,
      sessionId,
      stationId: staged.stationId,
    },
    { writeId: staged.writeId, kind, readingCount: body.meterValues.length },
  );
  const t2 = performance.now();
  input.em.clear();
  const response = await sessionResponse(input.em, await loadSession(input.em, sessionId));
  // Where an interactive write spends its time: staging in PostgreSQL, the actor (Temporal round
  // trip plus apply and analyse), reading the answer back.
  input.log.info({ stageMs: +(t1 - t0).toFixed(1), actorMs: +(t2 - t1).toFixed(1), readMs: +(performance.now() - t2).toFixed(1) }, 'session write');
  return { status: staged.created ? 201 : 200, body: response };
}

const sessionErrors = {
  404: { description: 'No such session for this tenant', schema: ErrorSchema },
};

export const sessionRoutes = [
  defineRoute({
    method: 'get',
    path: '/v1/sessions',
    summary: 'List sessions',
    description: 'Sessions of the caller\'s tenant, newest first, with the latest verdict. All filters combine.',
    tags: ['Sessions'],
    access: 'member',
    query: SessionListQuery,
    responses: { 200: { description: 'A page of sessions', schema: pageOf(SessionListItem, 'SessionListPage') } },
    handler: async ({ em, query }) => {
      const where: FilterQuery<ChargingSession> = {};
      if (query.chargingStationId !== undefined) where.station = { stationId: query.chargingStationId };
      if (query.evseId !== undefined) where.evseId = query.evseId;
      if (query.isAnomaly !== undefined) where.isAnomaly = query.isAnomaly;
      if (query.minScore !== undefined) where.anomalyScore = { $gte: query.minScore };
      if (query.minConfidence !== undefined) where.anomalyConfidence = { $gte: query.minConfidence };
      if (query.dateFrom !== undefined || query.dateTo !== undefined) {
        const range: Record<string, Date> = {};
        if (query.dateFrom !== undefined) range.$gte = new Date(query.dateFrom);
        if (query.dateTo !== undefined) range.$lt = new Date(query.dateTo);
        where.$or = [{ startedAt: range }, { startedAt: null, createdAt: range }];
      }
      const [items, total] = await em.findAndCount(ChargingSession, where, {
        populate: ['station'],
        orderBy: { createdAt: 'desc', id: 'desc' },
        limit: query.pageSize,
        offset: (query.page - 1) * query.pageSize,
      });
      return { body: toPage(items.map(presentListItem), total, query) };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/sessions',
    summary: 'Create a session (or upsert it)',
    description:
      'Find-or-create by sessionId: 201 when created, 200 when it existed (its meter values are then replaced by the ones sent, if any). ' +
      'With at least 3 meter values the analysis runs and its verdict is in the response.',
    tags: ['Sessions'],
    access: 'member',
    body: SessionCreate,
    responses: { 200: { description: 'Existed; updated', schema: SessionOut }, 201: { description: 'Created', schema: SessionOut } },
    handler: async (input) => writeSession(input as AnyInput, 'create', input.body.sessionId, input.body),
  }),
  defineRoute({
    method: 'get',
    path: '/v1/sessions/{session_id}',
    summary: 'Get a session',
    description: 'All fields, the latest verdict and every meter value as it was sent.',
    tags: ['Sessions'],
    access: 'member',
    params: SessionIdParams,
    responses: { 200: { description: 'The session', schema: SessionDetailOut }, ...sessionErrors },
    handler: async ({ em, params }) => {
      const session = await loadSession(em, params.session_id);
      const readings = await em.find(MeterValue, { session }, { orderBy: { timestamp: 'asc', seq: 'asc' } });
      await em.populate(session, ['reconstructedSoc']); // lazy: lists never load the overlay
      const body: z.infer<typeof SessionDetailOut> = {
        ...(await sessionResponse(em, session)),
        meterValues: readings.map(presentMeterValue),
        reconstructedSoc: socPointList(session.reconstructedSoc),
        sorcConfidence: session.sorcConfidence,
        readingCount: session.readingCount,
        dataQuality: (session.quality as unknown as Record<string, unknown>) ?? null,
      };
      return { body };
    },
  }),
  defineRoute({
    method: 'put',
    path: '/v1/sessions/{session_id}',
    summary: 'Replace a session\'s meter values',
    description: 'Deletes the stored meter values and stores these (at least one). The analysis runs again.',
    tags: ['Sessions'],
    access: 'member',
    params: SessionIdParams,
    body: SessionReplace,
    responses: { 200: { description: 'Replaced', schema: SessionOut }, ...sessionErrors },
    handler: async (input) => writeSession(input as AnyInput, 'replace', input.params.session_id, input.body),
  }),
  defineRoute({
    method: 'patch',
    path: '/v1/sessions/{session_id}',
    summary: 'Append meter values',
    description:
      'Appends readings (incremental push). Concurrent appends to one session are applied one at a time; none is lost. ' +
      'An empty list with no other field returns the current state.',
    tags: ['Sessions'],
    access: 'member',
    params: SessionIdParams,
    body: SessionAppend,
    responses: { 200: { description: 'Appended', schema: SessionOut }, ...sessionErrors },
    handler: async (input) => {
      const { meterValues, ...rest } = input.body;
      const changesSomething = meterValues.length > 0 || Object.values(rest).some((v) => v !== undefined);
      if (!changesSomething) return { body: await sessionResponse(input.em, await loadSession(input.em, input.params.session_id)) };
      return writeSession(input as AnyInput, 'append', input.params.session_id, input.body);
    },
  }),
];

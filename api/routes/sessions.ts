// Session endpoints: HTTP only. Writes go through the session actor (domain/sessions/writes.ts),
// reads through domain/sessions/queries.ts; every response is built by the sessions presenter.
import { socPointList } from '../../domain/analysis/window';
import { listSessions, sessionDetail } from '../../domain/sessions/queries';
import { sessionViewOf } from '../../domain/sessions/views';
import { writeSession, type SessionWriteInput } from '../../domain/sessions/writes';
import type { WriteKind } from '../../workflows/session/contract';
import { defineRoute, type Auth, type HandlerInput, type HandlerResult } from '../route';
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

/** POST, PUT and PATCH: one domain call, answered with the session the actor returned (201 when created). */
async function write(input: HandlerInput<unknown, unknown, unknown, Auth>, kind: WriteKind, sessionId: string, body: SessionWriteInput): Promise<HandlerResult> {
  const { deps, auth } = input;
  const { created, session, timings } = await writeSession(
    { em: input.em, temporal: deps.temporal, tenantId: auth.tenant.id, taskQueue: deps.config.taskQueue, quietPeriodMs: deps.config.sessionQuietPeriodMs, now: new Date() },
    kind,
    sessionId,
    body,
  );
  // Where an interactive write spends its time: staging in PostgreSQL, then the actor (Temporal
  // round trip plus apply and analyse).
  input.log.info({ stageMs: +timings.stageMs.toFixed(1), actorMs: +timings.actorMs.toFixed(1) }, 'session write');
  return { status: created ? 201 : 200, body: presentSession(session) };
}

const unavailableError = {
  503: { description: 'The workflow engine is unavailable; the write was withdrawn and nothing was stored. Retry after the Retry-After seconds.', schema: ErrorSchema },
};

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
    query: SessionListQuery,
    responses: { 200: { description: 'A page of sessions', schema: pageOf(SessionListItem, 'SessionListPage') } },
    handler: async ({ em, query }) => {
      const { items, total } = await listSessions(em, query);
      return { body: toPage(items.map(presentListItem), total, query) };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/sessions',
    summary: 'Create a session (or upsert it)',
    description:
      'Find-or-create by sessionId: 201 when created, 200 when it existed (its meter values are then replaced by the ones sent, if any). ' +
      'An optional field sent as null clears the stored value; a field left out keeps it. A chargingStationId other than the ' +
      "session's moves the session to that station. With at least 3 meter values the analysis runs and its verdict is in the response.",
    tags: ['Sessions'],
    body: SessionCreate,
    responses: { 200: { description: 'Existed; updated', schema: SessionOut }, 201: { description: 'Created', schema: SessionOut }, ...unavailableError },
    handler: async (input) => {
      const { sessionId, ...body } = input.body;
      return write(input, 'create', sessionId, body);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/sessions/{session_id}',
    summary: 'Get a session',
    description: 'All fields, the latest verdict and every meter value as it was sent.',
    tags: ['Sessions'],
    params: SessionIdParams,
    responses: { 200: { description: 'The session', schema: SessionDetailOut }, ...sessionErrors },
    handler: async ({ em, auth, params }) => {
      const d = await sessionDetail(em, auth.tenant.id, params.session_id);
      const body: z.infer<typeof SessionDetailOut> = {
        ...presentSession(d.view),
        meterValues: d.meterValues.map(presentMeterValue),
        reconstructedSoc: socPointList(d.reconstructedSoc),
        sorcConfidence: d.sorcConfidence,
        readingCount: d.view.readingCount,
        dataQuality: d.dataQuality ? { ...d.dataQuality } : null,
      };
      return { body };
    },
  }),
  defineRoute({
    method: 'put',
    path: '/v1/sessions/{session_id}',
    summary: 'Replace a session\'s meter values',
    description: 'Deletes the stored meter values and stores these (at least one). An optional field sent as null clears the stored value; one left out keeps it. The analysis runs again.',
    tags: ['Sessions'],
    params: SessionIdParams,
    body: SessionReplace,
    responses: { 200: { description: 'Replaced', schema: SessionOut }, ...sessionErrors, ...unavailableError },
    handler: async (input) => write(input, 'replace', input.params.session_id, input.body),
  }),
  defineRoute({
    method: 'patch',
    path: '/v1/sessions/{session_id}',
    summary: 'Append meter values',
    description:
      'Appends readings (incremental push). Concurrent appends to one session are applied one at a time; none is lost. ' +
      'An optional field sent as null clears the stored value; one left out keeps it. ' +
      'An empty list with no other field returns the current state.',
    tags: ['Sessions'],
    params: SessionIdParams,
    body: SessionAppend,
    responses: { 200: { description: 'Appended', schema: SessionOut }, ...sessionErrors, ...unavailableError },
    handler: async (input) => {
      const { meterValues, ...rest } = input.body;
      const changesSomething = meterValues.length > 0 || Object.values(rest).some((v) => v !== undefined);
      if (!changesSomething) return { body: presentSession((await sessionViewOf(input.em, input.auth.tenant.id, input.params.session_id)).view) };
      return write(input, 'append', input.params.session_id, input.body);
    },
  }),
];

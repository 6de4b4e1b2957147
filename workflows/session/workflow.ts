// The session actor: one long-lived workflow per (tenant, session id). Every create / replace /
// append arrives as the `write` update (sent with update-with-start) and is applied and analysed
// strictly one at a time, so concurrent writes to a session are never lost or interleaved.
// History holds write ids and small views, never the readings (they live in PostgreSQL).
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import type { SearchAttributePair } from '@temporalio/common';
import {
  lastAnalysisQuery,
  refreshSignal,
  SESSION_SEARCH_ATTRIBUTES as ATTR,
  writeUpdate,
  type SessionActivities,
  type SessionActorInput,
  type SessionView,
  type WriteRequest,
} from './contract';

// Local: the write is short database work and a client waits for it; a local activity skips the
// server round trips of a task-queue activity (the dominant cost of an interactive write).
const activityOptions: LocalActivityOptions = {
  startToCloseTimeout: '60 seconds',
  retry: { initialInterval: '200 ms', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 20 },
};
const acts = proxyLocalActivities<SessionActivities>(activityOptions);

/**
 * Runs started since this patch upsert search attributes only when they change and keep one quiet
 * deadline that writes move, instead of re-arming a timer on every write (each write then costs
 * fewer commands and history events). Older runs replay the way they ran.
 */
const QUIET_DEADLINE_PATCH = 'session-actor-quiet-deadline';

const closes = (s: SessionView | null | undefined) => s?.clientStatus === 'completed' || s?.clientStatus === 'invalid';

export async function sessionActor(input: SessionActorInput): Promise<SessionView | null> {
  const onlyChanges = patched(QUIET_DEADLINE_PATCH);
  let last = input.last ?? null;
  let writes = 0;
  let lastWriteAt = Date.now();
  // A promise chain is the actor's mailbox: each write or refresh starts when the previous one finished.
  let mailbox: Promise<unknown> = Promise.resolve();
  const enqueue = <T>(job: () => Promise<T>): Promise<T> => {
    const result = mailbox.then(job);
    mailbox = result.catch(() => undefined);
    return result;
  };

  /** Search attributes that differ from what the run shows (all of the verdict's before the patch). */
  const attributeChanges = (v: SessionView): SearchAttributePair[] => {
    const shown = workflowInfo().typedSearchAttributes;
    const pairs: SearchAttributePair[] = [];
    if (v.status === 'active') {
      const isAnomaly = v.isAnomaly ?? false;
      const score = v.anomalyScore ?? 0;
      if (!onlyChanges || shown.get(ATTR.isAnomaly) !== isAnomaly) pairs.push({ key: ATTR.isAnomaly, value: isAnomaly });
      if (!onlyChanges || shown.get(ATTR.anomalyScore) !== score) pairs.push({ key: ATTR.anomalyScore, value: score });
    }
    if (onlyChanges && v.chargingStationId !== undefined && shown.get(ATTR.station) !== v.chargingStationId) {
      pairs.push({ key: ATTR.station, value: v.chargingStationId });
    }
    return pairs;
  };
  const remember = (v: SessionView | null) => {
    if (!v) return;
    last = v;
    const pairs = attributeChanges(v);
    if (pairs.length > 0) upsertSearchAttributes(pairs);
  };

  setHandler(
    writeUpdate,
    (req: WriteRequest) =>
      enqueue(async () => {
        const view = await acts.applyWriteAndAnalyse.executeWithOptions(
          { ...activityOptions, summary: `${req.kind} ${req.readingCount} readings, then normalise, bucket, detect, store verdict` },
          [{ tenantId: input.tenantId, writeId: req.writeId, sessionDbId: input.sessionDbId }],
        );
        remember(view);
        writes++;
        lastWriteAt = Date.now();
        return view ?? last;
      }),
    {
      validator: (req) => {
        if (!req?.writeId) throw new Error('writeId is required');
      },
    },
  );
  setHandler(refreshSignal, () =>
    enqueue(async () => remember(await acts.readSessionView({ tenantId: input.tenantId, sessionDbId: input.sessionDbId }))),
  );
  setHandler(lastAnalysisQuery, () => last);

  // Until the client closes the session or it stays quiet for the quiet period; continues as new
  // when the history grows long.
  const quietFor = () => Date.now() - lastWriteAt >= input.quietPeriodMs;
  for (;;) {
    const seen = writes;
    const woke = await condition(
      () => (!onlyChanges && writes !== seen) || (closes(last) && allHandlersFinished()) || workflowInfo().continueAsNewSuggested,
      onlyChanges ? Math.max(1, lastWriteAt + input.quietPeriodMs - Date.now()) : input.quietPeriodMs,
    );
    const quiet = onlyChanges ? quietFor() : !woke;
    // The deadline's timer fired, but a write moved the deadline meanwhile: wait for the rest.
    if (!woke && !quiet) continue;
    if (quiet || closes(last)) {
      // Quiet for long enough, or closed by the client: finish once in-flight writes are done,
      // unless one of them came in meanwhile and reopened the session.
      await condition(allHandlersFinished);
      if (closes(last) || (onlyChanges ? quietFor() : writes === seen)) return last;
      continue;
    }
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof sessionActor>({ ...input, last });
    }
  }
}

// The session actor: one long-lived workflow per (tenant, session id). Every create / replace /
// append arrives as the `write` update (sent with update-with-start) and is applied and analysed
// strictly one at a time, so concurrent writes to a session are never lost or interleaved.
// History holds write ids and small summaries, never the readings (they live in PostgreSQL).
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineUpdate,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import type { SessionActivities } from '../activities/sessions';
import type { AnalysisSummary } from '../domain/sessions/analysis';
import { ANOMALY_SCORE, IS_ANOMALY } from '../temporal/search-attributes';

export interface SessionActorInput {
  tenantId: string;
  sessionDbId: string;
  sessionId: string;
  /** A session with no write for this long closes its actor; a later write starts a new run. */
  quietPeriodMs: number;
  /** Carried over continue-as-new. */
  last?: AnalysisSummary | null;
}

export interface WriteRequest {
  writeId: string;
  kind: 'create' | 'replace' | 'append';
  readingCount: number;
}

export const writeUpdate = defineUpdate<AnalysisSummary, [WriteRequest]>('write');
export const lastAnalysisQuery = defineQuery<AnalysisSummary | null>('lastAnalysis');

// Local: the write is short database work and a client waits for it; a local activity skips the
// server round trips of a task-queue activity (the dominant cost of an interactive write).
const activityOptions: LocalActivityOptions = {
  startToCloseTimeout: '60 seconds',
  retry: { initialInterval: '200 ms', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 20 },
};
const acts = proxyLocalActivities<SessionActivities>(activityOptions);

const closes = (s: AnalysisSummary | null | undefined) => s?.clientStatus === 'completed' || s?.clientStatus === 'invalid';

export async function sessionActor(input: SessionActorInput): Promise<AnalysisSummary | null> {
  let last = input.last ?? null;
  let writes = 0;
  // A promise chain is the actor's mailbox: each write starts when the previous one finished.
  let mailbox: Promise<unknown> = Promise.resolve();

  const handle = async (req: WriteRequest): Promise<AnalysisSummary> => {
    const summary = await acts.applyWriteAndAnalyse.executeWithOptions(
      { ...activityOptions, summary: `${req.kind} ${req.readingCount} readings, then normalise, bucket, detect, store verdict` },
      [{ tenantId: input.tenantId, writeId: req.writeId, sessionDbId: input.sessionDbId }],
    );
    last = summary;
    writes++;
    if (summary.status === 'active') {
      upsertSearchAttributes([
        { key: IS_ANOMALY, value: summary.isAnomaly ?? false },
        { key: ANOMALY_SCORE, value: summary.anomalyScore ?? 0 },
      ]);
    }
    return summary;
  };

  setHandler(
    writeUpdate,
    (req) => {
      const result = mailbox.then(() => handle(req));
      mailbox = result.catch(() => undefined);
      return result;
    },
    {
      validator: (req) => {
        if (!req?.writeId) throw new Error('writeId is required');
      },
    },
  );
  setHandler(lastAnalysisQuery, () => last);

  for (;;) {
    const seen = writes;
    const woke = await condition(
      () => writes !== seen || (closes(last) && allHandlersFinished()) || workflowInfo().continueAsNewSuggested,
      input.quietPeriodMs,
    );
    if (!woke || closes(last)) {
      // Quiet for long enough, or closed by the client: finish once in-flight writes are done,
      // unless one of them came in meanwhile and reopened the session.
      await condition(allHandlersFinished);
      if (writes === seen || closes(last)) return last;
      continue;
    }
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof sessionActor>({ ...input, last });
    }
  }
}

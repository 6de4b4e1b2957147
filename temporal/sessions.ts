// The client side of the session actor: a staged write's id goes to the actor with
// update-with-start and the fresh session comes back; a batch that rewrote sessions tells their
// running actors to refresh.
import { WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import {
  refreshSignal,
  SESSION_SEARCH_ATTRIBUTES,
  sessionWorkflowId,
  writeUpdate,
  type SessionActorInput,
  type SessionView,
  type WriteRequest,
} from '../workflows/session/contract';
import { sessionActor } from '../workflows/session/workflow';

export interface ActorAddress {
  taskQueue: string;
  quietPeriodMs: number;
  tenantId: string;
  sessionDbId: string;
  sessionId: string;
  stationId: string;
}

export async function sendSessionWrite(client: Client, to: ActorAddress, req: WriteRequest): Promise<SessionView | null> {
  const input: SessionActorInput = { tenantId: to.tenantId, sessionDbId: to.sessionDbId, sessionId: to.sessionId, quietPeriodMs: to.quietPeriodMs };
  for (let attempt = 1; ; attempt++) {
    const start = new WithStartWorkflowOperation(sessionActor, {
      workflowId: sessionWorkflowId(to.tenantId, to.sessionId),
      taskQueue: to.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      typedSearchAttributes: [
        { key: SESSION_SEARCH_ATTRIBUTES.tenant, value: to.tenantId },
        { key: SESSION_SEARCH_ATTRIBUTES.station, value: to.stationId },
      ],
      staticSummary: `Session ${to.sessionId} at ${to.stationId}`,
    });
    try {
      return await client.workflow.executeUpdateWithStart(writeUpdate, { args: [req], startWorkflowOperation: start });
    } catch (err) {
      if (!sendAgain(err) || attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 25 * attempt));
    }
  }
}

const FAILED_PRECONDITION = 9;

/**
 * The write never ran to its answer, and sending it again is safe because applying a staged write
 * is idempotent: the run was closing (completed, closed, not found, aborted), or the server failed
 * the workflow task that carried it ("unexpected workflow task failure": e.g. the run tried to close
 * in the task that answered this write while a signal had come in, which the server refuses).
 */
function sendAgain(err: unknown): boolean {
  if (err instanceof WorkflowUpdateFailedError) return false;
  const { message, code } = err as { message?: string; code?: unknown };
  if (/completed|closed|not found|aborted/i.test(message ?? '')) return true;
  return code === FAILED_PRECONDITION && /workflow task failure/i.test(message ?? '');
}

/**
 * Tells the running actors of these sessions that their session changed outside them (a batch
 * rewrote it), so that their state and search attributes follow. A session without a running
 * actor has nothing to refresh: its next write starts a run from what is stored.
 */
export async function refreshSessionActors(client: Client, tenantId: string, sessionIds: string[]): Promise<number> {
  let refreshed = 0;
  for (const sessionId of sessionIds) {
    try {
      await client.workflow.getHandle(sessionWorkflowId(tenantId, sessionId)).signal(refreshSignal);
      refreshed++;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
  return refreshed;
}

/** gRPC status codes that mean the server could not be reached or did not answer in time. */
const UNREACHABLE = new Set([4 /* DEADLINE_EXCEEDED */, 14 /* UNAVAILABLE */]);

/** True when an error says the Temporal server is unreachable (as opposed to a workflow's own failure). */
export function temporalUnavailable(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'number' && UNREACHABLE.has(e.code)) return true;
  }
  return false;
}

// The API side of the session actor: one call stages nothing itself, it sends a staged write's id
// to the actor with update-with-start and waits for the fresh analysis.
import { WithStartWorkflowOperation, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { AnalysisSummary } from '../domain/sessions/analysis';
import { writeUpdate, type SessionActorInput, type WriteRequest } from '../workflows/session';
import { STATION_ID, TENANT_ID } from './search-attributes';

export const sessionWorkflowId = (tenantId: string, sessionId: string) => `session/${tenantId}/${sessionId}`;

export async function sendSessionWrite(
  client: Client,
  opts: { taskQueue: string; quietPeriodMs: number; tenantId: string; sessionDbId: string; sessionId: string; stationId: string },
  req: WriteRequest,
): Promise<AnalysisSummary> {
  const input: SessionActorInput = {
    tenantId: opts.tenantId,
    sessionDbId: opts.sessionDbId,
    sessionId: opts.sessionId,
    quietPeriodMs: opts.quietPeriodMs,
  };
  // A run that is just closing can miss an update; the write is idempotent, so send it again.
  for (let attempt = 1; ; attempt++) {
    const start = new WithStartWorkflowOperation('sessionActor', {
      workflowId: sessionWorkflowId(opts.tenantId, opts.sessionId),
      taskQueue: opts.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      typedSearchAttributes: [
        { key: TENANT_ID, value: opts.tenantId },
        { key: STATION_ID, value: opts.stationId },
      ],
      staticSummary: `Session ${opts.sessionId} at ${opts.stationId}`,
    });
    try {
      return await client.workflow.executeUpdateWithStart(writeUpdate, { args: [req], startWorkflowOperation: start });
    } catch (err) {
      const retriable = !(err instanceof WorkflowUpdateFailedError) && /completed|closed|not found|aborted/i.test((err as Error).message);
      if (!retriable || attempt >= 3) throw err;
    }
  }
}

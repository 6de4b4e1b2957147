// The client side of the explanation workflow: start it (or join the running one of the same cache
// key) and wait for its result, up to a limit; the workflow goes on after the caller gives up.
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { EXPLANATION_SEARCH_ATTRIBUTES, explanationWorkflowId, type ExplanationRequest, type ExplanationResult } from '../workflows/explanation/contract';
import { explanationWorkflow } from '../workflows/explanation/workflow';

export type ExplanationOutcome =
  | { state: 'done'; result: ExplanationResult }
  | { state: 'waiting' }
  /** The workflow failed: `type` is its ApplicationFailure's type (e.g. the token budget), if any. */
  | { state: 'failed'; type: string | null; message: string };

export async function runExplanation(client: Client, taskQueue: string, request: ExplanationRequest, waitMs: number): Promise<ExplanationOutcome> {
  const handle = await client.workflow.start(explanationWorkflow, {
    workflowId: explanationWorkflowId(request.tenantId, request.cacheKey),
    taskQueue,
    args: [request],
    // Identical requests while one generation runs share it; a closed one (done or failed) may run again.
    workflowIdConflictPolicy: 'USE_EXISTING',
    typedSearchAttributes: [{ key: EXPLANATION_SEARCH_ATTRIBUTES.tenant, value: request.tenantId }],
    staticSummary: `${request.kind === 'ask' ? 'Answer' : 'Explanation'} of session ${request.sessionId} (${request.generator}, ${request.lang}, ${request.style})`,
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), waitMs)));
  try {
    const result = await Promise.race([handle.result(), timeout]);
    return result === 'timeout' ? { state: 'waiting' } : { state: 'done', result };
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    let cause: unknown = err.cause;
    while (cause && !(cause instanceof ApplicationFailure) && (cause as { cause?: unknown }).cause) cause = (cause as { cause?: unknown }).cause;
    const app = cause instanceof ApplicationFailure ? cause : null;
    return { state: 'failed', type: app?.type ?? null, message: (app ?? err.cause ?? err).message };
  } finally {
    clearTimeout(timer);
  }
}

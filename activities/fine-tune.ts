// The fine-tuning workflow's TypeScript activities: thin over domain/models/. The tensor export
// needs the served feature extraction, which the worker hands in (`deps.fineTune`).
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { exportFineTuneData, InvalidTrainingData } from '../domain/models/fine-tune-data';
import { finishJob, markJobRunning, registerFineTunedModel } from '../domain/models/fine-tune';
import { FINE_TUNE_FAILURE, type FineTuneActivities } from '../workflows/fine-tune/contract';
import type { ActivityDeps } from '.';

export function createFineTuneActivities(deps: Pick<ActivityDeps, 'orm' | 'fineTune'>): FineTuneActivities {
  return {
    async startFineTuneJob({ tenantId, jobId }) {
      await markJobRunning(deps.orm.em.fork(), tenantId, jobId);
    },
    async exportFineTuneData(input) {
      if (!deps.fineTune) throw ApplicationFailure.nonRetryable('this worker was started without fine-tuning support (no feature extraction handed in)', FINE_TUNE_FAILURE.unsupported);
      const ctx = Context.current();
      try {
        const data = await exportFineTuneData(deps.orm.em.fork(), input, deps.fineTune, () => ctx.heartbeat());
        ctx.log.info('fine-tuning data exported', { jobId: input.jobId, ...data.sessions, ...data.labels });
        return data;
      } catch (err) {
        if (err instanceof InvalidTrainingData) throw ApplicationFailure.nonRetryable(err.message, FINE_TUNE_FAILURE.invalidData);
        throw err;
      }
    },
    async registerFineTunedModel(input) {
      return registerFineTunedModel(deps.orm.em.fork(), input);
    },
    async finishFineTuneJob({ tenantId, jobId, status, errorMessage, stage }) {
      await finishJob(deps.orm.em.fork(), tenantId, jobId, status, errorMessage, stage);
    },
  };
}

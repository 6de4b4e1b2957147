// A worker of a test's own (own task queue, mocked activities) on the run's Temporal dev server,
// around `fn`, as the Temporal samples' workflow tests do.
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../../worker/worker';
import { stack } from './stack';

let queues = 0;

export async function withMockedWorker<T>(name: string, activities: object, fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const { env } = stack();
  const taskQueue = `wf-test-${name}-${process.pid}-${++queues}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
  });
  return worker.runUntil(() => fn(taskQueue));
}

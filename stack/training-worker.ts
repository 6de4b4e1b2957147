// Starts the Python training worker (the fine-tuning activities, models/training/worker/) with the
// models' virtual environment, polling the training task queue of a Temporal server: `npm start`
// and the fine-tuning tests start it the same way.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import path from 'node:path';
import { config, ROOT_DIR } from '../config';

export function spawnTrainingWorker(opts: { temporalAddress: string; namespace: string; stdio: StdioOptions }): ChildProcess {
  return spawn(config.trainingPython, [path.join(ROOT_DIR, 'models', 'training', 'worker', 'main.py')], {
    cwd: ROOT_DIR,
    env: { ...process.env, TEMPORAL_ADDRESS: opts.temporalAddress, TEMPORAL_NAMESPACE: opts.namespace, EVNI_TRAINING_TASK_QUEUE: config.trainingTaskQueue },
    stdio: opts.stdio,
  });
}

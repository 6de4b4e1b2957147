// A worker in a process of its own that runs webhook deliveries only, for the test that kills a
// worker in the middle of a delivery (SIGKILL: no shutdown, no activity completion). Its settings
// come from the environment the test gives it; it prints "ready" once polling.
import fs from 'node:fs';
import { NativeConnection, Worker } from '@temporalio/worker';
import { config } from '../../config';
import { openOrm } from '../../db/orm';
import { createWebhookActivities } from '../../activities/webhooks';
import { webhookSettings } from '../../domain/webhooks/settings';

async function main() {
  const env = process.env;
  const orm = await openOrm(env.DATABASE_URL!);
  const connection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS! });
  const webhooks = webhookSettings({ ...config, webhookSecretKey: env.EVNI_WEBHOOK_SECRET_KEY, webhookAllowHttpLoopback: true }, { egress: (a) => a.address === '127.0.0.1' || a.address === '::1' });
  const worker = await Worker.create({
    connection,
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: env.TASK_QUEUE!,
    workflowBundle: { code: fs.readFileSync(env.BUNDLE_FILE!, 'utf8') },
    activities: createWebhookActivities({ orm, webhooks }),
  });
  const running = worker.run();
  process.stdout.write('ready\n');
  await running;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

// Fine-tuning end to end, through the API, against the shared test stack's Temporal and PostgreSQL
// and the real Python training worker (models/training/worker/, the project's models venv), which
// this file starts itself so that no other test pays for it: a tiny fine-tune whose model becomes
// the tenant's active one and analyses its new sessions (another tenant unaffected), a
// cancellation, and a training worker killed mid-job whose job resumes from its checkpoint.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { sql } from '../db/sql';
import { call, newTenant } from './helpers/http';
import { spawnTrainingWorker } from '../stack/training-worker';
import { stack } from './helpers/stack';
import { waitFor } from './helpers/wait';

const T0 = Date.parse('2026-03-02T06:00:00Z');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A charging session: one energy reading a minute at ~7 kW; `drop` puts a register decrease halfway. */
function session(id: string, station: string, k: number, minutes: number, drop = false) {
  const start = T0 + k * 7 * 3600_000;
  const meterValues = Array.from({ length: minutes }, (_, i) => ({
    measurand: 'Energy.Active.Import.Register',
    unit: 'kWh',
    timestamp: new Date(start + i * 60_000).toISOString(),
    value: Math.round((drop && i >= minutes / 2 ? 0.1167 * (i - minutes / 2) : 0.1167 * i + (k % 3) * 0.01 * i) * 1000) / 1000,
  }));
  return { sessionId: id, chargingStationId: station, meterValues };
}

async function submitBatch(key: string, sessions: unknown[]): Promise<string> {
  const res = await call('POST', '/v1/sessions/batch', { key, body: { sessions } });
  assert.equal(res.status, 200, res.text);
  const batchId = res.body.batchId as string;
  await waitFor('the batch to complete', async () => {
    const st = await call('GET', `/v1/sessions/batch/${batchId}`, { key });
    assert.notEqual(st.body.status, 'failed', st.text);
    return st.body.status === 'completed' ? true : undefined;
  }, 150_000, 250);
  return batchId;
}

/** The Python training worker, on the test stack's Temporal. */
class Trainer {
  child!: ChildProcess;
  output: string[] = [];
  start(): this {
    const { env } = stack();
    this.child = spawnTrainingWorker({ temporalAddress: env.address, namespace: env.namespace ?? 'default', stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (b: Buffer) => this.output.push(...b.toString().split('\n').filter(Boolean));
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    return this;
  }
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill(signal);
    await exited;
  }
  tail(): string {
    return this.output.slice(-30).join('\n');
  }
}

type Job = { status: string; progress: any; metrics: any; resultModelId: string | null; errorMessage: string | null; [k: string]: any };

/** Polls the job until `until` holds (or it ends), keeping every answer. */
async function watch(key: string, jobId: string, until: (j: Job) => boolean, timeoutMs: number, seen: Job[] = []): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const res = await call('GET', `/v1/models/fine-tune/${jobId}`, { key });
    assert.equal(res.status, 200, res.text);
    seen.push(res.body);
    if (until(res.body)) return res.body;
    await sleep(150);
  }
  throw new Error(`job ${jobId} still ${JSON.stringify(seen[seen.length - 1])} after ${timeoutMs} ms`);
}
const ended = (j: Job) => ['completed', 'failed', 'cancelled'].includes(j.status);

async function storedDetector(tenantId: string, sessionId: string): Promise<string> {
  const [row] = await sql(stack().orm.em.fork(), 'select detector from charging_sessions where tenant_id = ? and session_id = ?', [tenantId, sessionId]);
  return row?.detector as string;
}

/** Reviews a session's findings in the anomaly workspace's table, as its API would store them. */
async function review(tenantId: string, sessionId: string, categories: string[], status: string, resolvedBy: string | null): Promise<void> {
  const em = stack().orm.em.fork();
  const [s] = await sql(em, 'select id, station_id from charging_sessions where tenant_id = ? and session_id = ?', [tenantId, sessionId]);
  for (const category of new Set(categories)) {
    await sql(
      em,
      `insert into anomaly_issues (id, tenant_id, session_id, category, status, resolved_by, max_score, first_detected_at, last_detected_at, station_id, occurred_at, occurred_until, created_at, updated_at)
       values (gen_random_uuid(), ?, ?, ?, ?, ?, 0.9, now(), now(), ?, now(), now(), now(), now())
       on conflict (session_id, category) do update set status = excluded.status, resolved_by = excluded.resolved_by`,
      [tenantId, s.id, category, status, resolvedBy, s.station_id],
    );
  }
}

describe('fine-tuning (Python training worker)', function () {
  this.timeout(600_000);
  const trainer = new Trainer();
  let a: Awaited<ReturnType<typeof newTenant>>;
  let b: Awaited<ReturnType<typeof newTenant>>;
  let batchId: string;
  let baseDetector: string;
  let anomalousCategories: string[];
  let confirmedCategories: string[];

  before(async () => {
    trainer.start();
    [a, b] = await Promise.all([newTenant('fine-tune-a'), newTenant('fine-tune-b')]);
    // 30 sessions of 4 hours (960 buckets each), two with a register decrease.
    const sessions = Array.from({ length: 30 }, (_, k) => session(`ft-a-${k}`, `CP-FT-${k % 4}`, k, 240, k === 5 || k === 10));
    batchId = await submitBatch(a.key, sessions);
    const anomalous = await call('GET', '/v1/sessions/ft-a-5', { key: a.key });
    assert.equal(anomalous.body.isAnomaly, true, anomalous.text);
    anomalousCategories = anomalous.body.anomalies.map((x: any) => x.category);
    const confirmed = await call('GET', '/v1/sessions/ft-a-10', { key: a.key });
    assert.equal(confirmed.body.isAnomaly, true, confirmed.text);
    confirmedCategories = confirmed.body.anomalies.map((x: any) => x.category);
    // The anomaly workspace's reviews (the contract's table anomaly_issues): every finding of one
    // session is a false positive (negatives), the other's are confirmed by a member (positives).
    await review(a.tenantId, 'ft-a-5', anomalousCategories, 'FALSE_POSITIVE', null);
    await review(a.tenantId, 'ft-a-10', confirmedCategories, 'RESOLVED', 'member');
    baseDetector = await storedDetector(a.tenantId, 'ft-a-0');
    assert.match(baseDetector, /^csar-c-2\+physics@2\.0\.0\//);
  });

  after(async () => {
    await trainer.stop();
  });

  it('refuses bad requests with a 422 naming the field, and too little data naming the minimum', async () => {
    const body = { baseModelId: 'model-csar-c2-base', name: 'x', dataSource: { type: 'sessions' } };
    const cases: [unknown, RegExp][] = [
      [{ ...body, baseModelId: 'model-nope' }, /baseModelId/],
      [{ ...body, baseModelId: 'model-sorc-base' }, /baseModelId/],
      [{ ...body, name: 'n'.repeat(129) }, /name/],
      [{ ...body, trainingConfig: { epochs: 0 } }, /trainingConfig\.epochs/],
      [{ ...body, trainingConfig: { learningRate: 1 } }, /trainingConfig\.learningRate/],
      [{ ...body, dataSource: { type: 'files' } }, /dataSource/],
      [{ ...body, dataSource: { type: 'sessions', sessionFilter: { dateFrom: '2026-03-05T00:00:00Z', dateTo: '2026-03-01T00:00:00Z' } } }, /dateFrom/],
      [{ ...body, dataSource: { type: 'sessions', sessionFilter: { chargingStationIds: ['CP-FT-1'] } } }, /at least 20/],
      [{ ...body, dataSource: { type: 'upload', batchId: '00000000-0000-4000-8000-000000000000' } }, /dataSource\.batchId/],
    ];
    for (const [b2, where] of cases) {
      const res = await call('POST', '/v1/models/fine-tune', { key: a.key, body: b2 });
      assert.equal(res.status, 422, `${JSON.stringify(b2)} → ${res.status} ${res.text}`);
      assert.match(res.body.detail, where);
    }
    // Tenant B has no sessions at all; and A's batch is not B's.
    const none = await call('POST', '/v1/models/fine-tune', { key: b.key, body });
    assert.equal(none.status, 422);
    assert.match(none.body.detail, /too little data: 0 analysed session\(s\).*at least 20/);
    const foreign = await call('POST', '/v1/models/fine-tune', { key: b.key, body: { ...body, dataSource: { type: 'upload', batchId } } });
    assert.equal(foreign.status, 422, foreign.text);
    const [{ n }] = await sql(stack().orm.em.fork(), 'select count(*)::int as n from fine_tune_jobs where tenant_id in (?, ?)', [a.tenantId, b.tenantId]);
    assert.equal(n, 0, 'nothing stored');
  });

  it("fine-tunes from the tenant's sessions; the model becomes active and analyses the tenant's new sessions only", async () => {
    const created = await call('POST', '/v1/models/fine-tune', {
      key: a.key,
      body: { baseModelId: 'model-csar-c2-base', name: 'Operator A fleet', trainingConfig: { epochs: 1, learningRate: 0.0001, seed: 3 }, dataSource: { type: 'sessions', sessionFilter: null } },
    });
    assert.equal(created.status, 200, created.text);
    assert.equal(created.body.status, 'queued');
    assert.equal(created.body.sessionCount, 30);
    const jobId = created.body.jobId as string;
    const seen: Job[] = [];
    const job = await watch(a.key, jobId, ended, 300_000, seen).catch((err) => assert.fail(`${err.message}\n${trainer.tail()}`));
    assert.equal(job.status, 'completed', `${JSON.stringify(job)}\n${trainer.tail()}`);
    assert.ok(seen.some((j) => j.status === 'running' && j.progress?.stage), 'the GET showed the running job and its stage');
    assert.deepEqual({ stage: job.progress.stage, epoch: job.progress.epoch, epochs: job.progress.epochs }, { stage: 'completed', epoch: 1, epochs: 1 });
    assert.ok(Number.isFinite(job.progress.loss));
    assert.equal(job.config.epochs, 1);
    assert.ok(job.startedAt && job.completedAt);
    assert.equal(job.errorMessage, null);
    // Data and labels: every session exported; the reviewed false positive is counted and not a label.
    assert.equal(job.metrics.data.sessions.total, 30);
    assert.ok(job.metrics.data.sessions.heldOut >= 1 && job.metrics.data.sessions.train >= 1);
    const [{ normal }] = await sql(stack().orm.em.fork(), `select count(*)::int as normal from charging_sessions where tenant_id = ? and session_id like 'ft-a-%' and not is_anomaly`, [a.tenantId]);
    assert.equal(job.metrics.data.labels.falsePositives, new Set(anomalousCategories).size);
    assert.equal(job.metrics.data.labels.confirmed, new Set(confirmedCategories).size);
    assert.ok(job.metrics.data.labels.fromVerdicts >= new Set(confirmedCategories).size, 'the confirmed findings are labels');
    assert.equal(job.metrics.data.sessions.clean, normal + 1, 'the reviewed session counts as clean: its findings are false positives');
    // Evaluation on the held-out split and the base evaluation set, and the promotion decision.
    for (const set of ['heldOut', 'baseEvaluation']) for (const m of ['base', 'fineTuned']) assert.ok(Number.isFinite(job.metrics[set][m].score), `${set}.${m}`);
    assert.equal(job.metrics.baseEvaluation.corpus.sessions, 40);
    assert.equal(job.metrics.promotion.promoted, true, JSON.stringify(job.metrics.promotion));
    const modelId = job.resultModelId!;
    assert.equal(modelId, `model-ft-${jobId}`);

    const models = await call('GET', '/v1/models', { key: a.key });
    const mine = models.body.models.find((m: any) => m.id === modelId);
    assert.deepEqual({ isBase: mine.isBase, active: mine.active, type: mine.type, baseModel: mine.baseModel, name: mine.name }, { isBase: false, active: true, type: 'csar_c_2', baseModel: 'model-csar-c2-base', name: 'Operator A fleet' });
    assert.equal(models.body.models.find((m: any) => m.id === 'model-csar-c2-base').active, false);
    assert.equal(models.body.models.find((m: any) => m.id === 'model-sorc-base').active, true);
    const detail = await call('GET', `/v1/models/${modelId}`, { key: a.key });
    assert.equal(detail.status, 200);
    assert.equal(detail.body.card.fineTune.jobId, jobId);
    assert.ok(detail.body.s3Path.endsWith(`/${a.tenantId}/${modelId}/csar-c-2.onnx`));
    const version = detail.body.version as string;
    assert.equal(version, `2.0.0-ft.${jobId.slice(0, 8)}`);

    // A new session of A, interactive and in a batch, is analysed by A's model; the verdict names it.
    const s1 = await call('POST', '/v1/sessions', { key: a.key, body: session('ft-a-new', 'CP-FT-1', 40, 120) });
    assert.equal(s1.status, 201, s1.text);
    assert.equal(await storedDetector(a.tenantId, 'ft-a-new'), `csar-c-2+physics@${version}/${baseDetector.split('/')[1]}`);
    await submitBatch(a.key, [session('ft-a-batch', 'CP-FT-2', 41, 120)]);
    assert.match(await storedDetector(a.tenantId, 'ft-a-batch'), new RegExp(`@${version.replace(/\./g, '\\.')}/`));

    // Tenant B: neither sees nor uses it.
    const bModels = await call('GET', '/v1/models', { key: b.key });
    assert.ok(!bModels.body.models.some((m: any) => !m.isBase));
    assert.ok(bModels.body.models.find((m: any) => m.id === 'model-csar-c2-base').active);
    assert.equal((await call('GET', `/v1/models/${modelId}`, { key: b.key })).status, 404);
    assert.equal((await call('POST', `/v1/models/${modelId}/promote`, { key: b.key })).status, 404);
    assert.equal((await call('GET', `/v1/models/fine-tune/${jobId}`, { key: b.key })).status, 404);
    const sb = await call('POST', '/v1/sessions', { key: b.key, body: session('ft-b-new', 'CP-FT-B', 40, 120) });
    assert.equal(sb.status, 201, sb.text);
    assert.equal(await storedDetector(b.tenantId, 'ft-b-new'), baseDetector);

    // Explicit promotion: back to the base models, and to the fine-tuned one again.
    const back = await call('POST', '/v1/models/model-csar-c2-base/promote', { key: a.key });
    assert.equal(back.status, 200, back.text);
    await call('PUT', '/v1/sessions/ft-a-new', { key: a.key, body: { meterValues: session('ft-a-new', 'CP-FT-1', 40, 121).meterValues } });
    assert.equal(await storedDetector(a.tenantId, 'ft-a-new'), baseDetector);
    const again = await call('POST', `/v1/models/${modelId}/promote`, { key: a.key });
    assert.deepEqual([again.status, again.body.active], [200, true]);
    const sorc = await call('POST', '/v1/models/model-sorc-base/promote', { key: a.key });
    assert.equal(sorc.status, 409);
  });

  it('cancels a running job: the training stops and the job is cancelled, with no model', async () => {
    // The sessions of A's batch (`upload`), many epochs: it is still training when cancelled.
    const created = await call('POST', '/v1/models/fine-tune', {
      key: a.key,
      body: { baseModelId: 'model-csar-c2-base', name: 'to cancel', trainingConfig: { epochs: 50 }, dataSource: { type: 'upload', batchId } },
    });
    assert.equal(created.status, 200, created.text);
    assert.equal(created.body.sessionCount, 30);
    const jobId = created.body.jobId as string;
    await watch(a.key, jobId, (j) => j.progress?.stage === 'training' && j.progress?.state === 'started' || ended(j), 120_000);
    const cancel = await call('POST', `/v1/models/fine-tune/${jobId}/cancel`, { key: a.key });
    assert.equal(cancel.status, 202, cancel.text);
    const job = await watch(a.key, jobId, ended, 60_000);
    assert.equal(job.status, 'cancelled', JSON.stringify(job));
    assert.deepEqual(job.progress, { stage: 'training' }, 'where it stopped');
    assert.equal(job.resultModelId, null);
    assert.ok(job.completedAt);
    assert.equal((await call('POST', `/v1/models/fine-tune/${jobId}/cancel`, { key: a.key })).status, 409);
    const [{ n }] = await sql(stack().orm.em.fork(), 'select count(*)::int as n from ml_models where fine_tune_job_id = ?', [jobId]);
    assert.equal(n, 0);
  });

  it('resumes from its checkpoint when the training worker is killed mid-job', async () => {
    const epochs = 16;
    const created = await call('POST', '/v1/models/fine-tune', {
      key: a.key,
      body: { baseModelId: 'model-csar-c2-base', name: 'survives a kill', trainingConfig: { epochs, learningRate: 0.0001 }, dataSource: { type: 'sessions' } },
    });
    assert.equal(created.status, 200, created.text);
    const jobId = created.body.jobId as string;
    // Live progress from the heartbeat: kill the worker once two epochs are done.
    const atKill = await watch(a.key, jobId, (j) => (j.progress?.epoch ?? 0) >= 2 || ended(j), 240_000);
    assert.equal(atKill.status, 'running', JSON.stringify(atKill));
    assert.ok(atKill.progress.epoch < epochs, 'killed mid-job');
    assert.ok(Number.isFinite(atKill.progress.loss) && atKill.progress.history.length === atKill.progress.epoch);
    await trainer.stop('SIGKILL');
    trainer.start();
    const job = await watch(a.key, jobId, ended, 300_000).catch((err) => assert.fail(`${err.message}\n${trainer.tail()}`));
    assert.equal(job.status, 'completed', `${JSON.stringify(job)}\n${trainer.tail()}`);
    const t = job.metrics.training;
    assert.ok(t.attempt >= 2, `a second attempt finished the training (attempt ${t.attempt})`);
    assert.ok(t.resumedFromEpoch >= atKill.progress.epoch, `resumed after epoch ${t.resumedFromEpoch}, killed after ${atKill.progress.epoch}`);
    assert.deepEqual(t.history.map((h: any) => h.epoch), Array.from({ length: epochs }, (_, i) => i + 1));
    // The epochs before the kill are the ones the first attempt trained, not trained again.
    assert.deepEqual(t.history.slice(0, atKill.progress.epoch), atKill.progress.history);
    assert.ok(trainer.output.some((l) => l.includes('resuming from checkpoint')), trainer.tail());
  });
});

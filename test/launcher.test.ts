// The `npm start` launcher, for real: embedded PostgreSQL, the Temporal dev server, worker and API
// as child processes, the printed demo key — then Ctrl-C, and nothing may be left running.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, isAlive, processesMentioning } from './helpers/ports';

const ROOT = path.resolve(__dirname, '..');

interface Launch {
  lines: Record<string, string>;
  pids: number[];
  stop: () => Promise<number | null>;
}

async function launch(dataDir: string, ports: Record<string, number>): Promise<Launch> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'stack/start.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: '',
      TEMPORAL_ADDRESS: '',
      EVNI_DATA_DIR: dataDir,
      PORT: String(ports.api),
      EVNI_PG_PORT: String(ports.pg),
      EVNI_TEMPORAL_PORT: String(ports.temporal),
      EVNI_TEMPORAL_UI_PORT: String(ports.ui),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 150_000;
  while (!/^Temporal UI: .*$/m.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`launcher did not come up:\n${out.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const lines: Record<string, string> = {};
  for (const m of out.matchAll(/^(API key|API|Docs|Temporal UI): (.*)$/gm)) lines[m[1]] = m[2];
  const pids = [...out.matchAll(/"pid":(\d+)/g)].map((m) => Number(m[1]));
  return {
    lines,
    pids,
    stop: async () => {
      child.kill('SIGINT');
      return exited;
    },
  };
}

describe('npm start launcher', function () {
  this.timeout(300_000);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'evni-launch-'));
  fs.chmodSync(dataDir, 0o755);
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('starts everything, prints a working key, stops cleanly, and keeps the key across restarts', async () => {
    const ports = { api: await freePort(), pg: await freePort(), temporal: await freePort(), ui: await freePort() };
    const first = await launch(dataDir, ports);
    assert.match(first.lines['API key'], /^evni_/);
    assert.equal(first.lines.API, `http://127.0.0.1:${ports.api}`);
    assert.equal(first.lines.Docs, `http://127.0.0.1:${ports.api}/docs`);
    assert.equal(first.lines['Temporal UI'], `http://127.0.0.1:${ports.ui}`);
    const res = await fetch(`${first.lines.API}/v1/api-keys`, { headers: { authorization: `Bearer ${first.lines['API key']}` } });
    assert.equal(res.status, 200);
    assert.equal((await fetch(first.lines['Temporal UI'])).status, 200, 'Temporal Web UI is served');
    assert.equal(first.pids.length, 2, 'worker and API pids logged');
    assert.equal(await first.stop(), 0, 'clean exit');
    for (const pid of first.pids) assert.ok(!isAlive(pid), `child ${pid} still running`);
    assert.deepEqual(await processesMentioning(dataDir), [], 'no orphan processes');

    const second = await launch(dataDir, ports);
    assert.equal(second.lines['API key'], first.lines['API key'], 'same key after a restart');
    const again = await fetch(`${second.lines.API}/v1/api-keys`, { headers: { authorization: `Bearer ${second.lines['API key']}` } });
    assert.equal(again.status, 200);
    assert.equal(((await again.json()) as { items: unknown[] }).items.length, 1, 'the data survived the restart');
    assert.equal(await second.stop(), 0);
    assert.deepEqual(await processesMentioning(dataDir), [], 'no orphan processes');
  });
});

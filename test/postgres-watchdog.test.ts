// An embedded PostgreSQL must not outlive a process that dies without stopping it (a test run
// killed with SIGKILL used to leave servers under /tmp/evni-test-pg-*): its watchdog stops it and
// removes a throw-away server's folder.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, isAlive } from './helpers/ports';
import { waitFor } from './helpers/wait';

const ROOT = path.resolve(__dirname, '..');

describe('embedded PostgreSQL watchdog', function () {
  this.timeout(120_000);

  it('stops the server and removes its folder when its owner is killed', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evni-watchdog-'));
    fs.chmodSync(dir, 0o755);
    const port = await freePort();
    const script = `
      const { startEmbeddedPostgres } = require('./stack/postgres');
      startEmbeddedPostgres({ dataDir: ${JSON.stringify(path.join(dir, 'data'))}, port: ${port}, removeIfOrphaned: ${JSON.stringify(dir)} })
        .then((pg) => { console.log('PG_PID=' + pg.pid); setInterval(() => {}, 1000); });`;
    const owner = spawn(process.execPath, ['--require', 'tsx/cjs', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    owner.stdout!.on('data', (d) => (out += d));
    owner.stderr!.on('data', (d) => (out += d));
    const pgPid = await waitFor('the server to start', async () => Number(/PG_PID=(\d+)/.exec(out)?.[1]) || undefined, 90_000);
    assert.ok(isAlive(pgPid));

    owner.kill('SIGKILL');
    await waitFor('the orphaned server to stop', async () => (isAlive(pgPid) ? undefined : true), 60_000);
    await waitFor('its folder to be removed', async () => (fs.existsSync(dir) ? undefined : true), 30_000);
  });
});

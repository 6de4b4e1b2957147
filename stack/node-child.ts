// Starts one of the stack's Node processes (API, worker) the same way for `npm start` and the bench.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import path from 'node:path';
import { ROOT_DIR } from '../config';

/**
 * V8 flags for the service's processes (the bench's own process gets the same through its npm
 * script, so the in-process limit is measured alike). A larger young generation: a batch submit
 * and a chunk allocate hundreds of MB of short-lived strings and objects (JSON text, readings,
 * COPY rows), and with the default 16 MB semi-space V8 spends much of that time in scavenges and
 * promotes garbage to the old generation. Measured: 10,000-session batch end to end 20.2 → 17.3 s
 * with 64 MB; batch chunks a further 15 % faster with 128 MB (interleaved runs); 256 MB no better.
 */
export const NODE_FLAGS = ['--max-semi-space-size=128'];

export function spawnNodeScript(script: string, options: SpawnOptions): ChildProcess {
  return spawn(process.execPath, [...NODE_FLAGS, '--import', 'tsx', path.join(ROOT_DIR, script)], { cwd: ROOT_DIR, ...options });
}

// Runs schemathesis (from the project's tools venv, pinned in requirements-tools.txt) against a
// running API with every check on, as an admin of a fresh tenant. Used by the bounded run in
// `npm test` (test/schemathesis.test.ts) and the larger run (`npm run test:schemathesis`).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
export const SCHEMATHESIS = path.join(root, '.tools', 'venv', 'bin', 'st');

export interface SchemathesisRun {
  apiUrl: string;
  /** An admin key of a tenant the run may fill with data. */
  key: string;
  keyId: string;
  memberId: string;
  /** Test cases per operation and phase. */
  maxExamples: number;
  phases?: string[];
  workers?: number;
  seed?: number;
  /** Print schemathesis' output as it comes (the larger run). */
  echo?: boolean;
}

export interface SchemathesisResult {
  code: number | null;
  output: string;
  ms: number;
}

export async function runSchemathesis(run: SchemathesisRun): Promise<SchemathesisResult> {
  const t0 = Date.now();
  const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), 'evni-st-'));
  const args = [
    'run',
    `${run.apiUrl}/openapi.json`,
    '--url',
    run.apiUrl,
    '--checks',
    'all',
    '--mode',
    'all',
    '--phases',
    (run.phases ?? ['examples', 'coverage', 'fuzzing', 'stateful']).join(','),
    '--max-examples',
    String(run.maxExamples),
    '--seed',
    String(run.seed ?? 21),
    '--workers',
    // One worker: hypothesis reads lambda sources with ast.parse, which CPython 3.11 (before 3.11.8)
    // cannot run on two threads at once ("AST constructor recursion depth mismatch").
    String(run.workers ?? 1),
    '--request-timeout',
    '30',
    '--generation-database',
    'none',
    // The document puts the NUL rule on every string (a pattern) and in its description, but
    // OpenAPI 3.0 cannot constrain object keys (free-form metadata): generated data would carry NUL
    // in keys the document allows. test/http-conventions.test.ts covers the rule instead.
    '--generation-allow-x00',
    'false',
    '--no-color',
    '-H',
    `Authorization: Bearer ${run.key}`,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(SCHEMATHESIS, args, {
      cwd: reportDir,
      env: {
        ...process.env,
        SCHEMATHESIS_HOOKS: 'hooks',
        PYTHONPATH: path.join(root, 'test', 'schemathesis'),
        EVNI_ST_KEY_ID: run.keyId,
        EVNI_ST_MEMBER_ID: run.memberId,
        NO_COLOR: '1',
        COLUMNS: '160',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const take = (chunk: Buffer) => {
      output += chunk.toString();
      if (run.echo) process.stdout.write(chunk);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', reject);
    child.on('close', (code) => {
      fs.rmSync(reportDir, { recursive: true, force: true });
      resolve({ code, output, ms: Date.now() - t0 });
    });
  });
}

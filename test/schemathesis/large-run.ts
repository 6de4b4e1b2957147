// The larger schemathesis run (`npm run test:schemathesis [-- --examples N --workers N --seed N]`):
// the same checks as the bounded run in `npm test` (test/schemathesis.test.ts), with many more
// generated requests per operation, against a stack of its own (as `npm test` starts one).
import { newTenant } from '../helpers/http';
import { startTestStack, stopTestStack } from '../helpers/stack';
import { runSchemathesis } from './run';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main() {
  const stack = await startTestStack();
  let code = 1;
  try {
    const { key, keyId, memberId } = await newTenant('schemathesis-large');
    const result = await runSchemathesis({
      apiUrl: stack.apiUrl,
      key,
      keyId,
      memberId,
      maxExamples: option('examples', 200),
      workers: option('workers', 1),
      seed: option('seed', Date.now() % 100_000),
      echo: true,
    });
    // What the API logged for any 500: the stack and the request id (the answer shows only the id).
    for (const line of stack.logLines.filter((l) => l.msg === 'unhandled error')) console.log(JSON.stringify(line));
    console.log(`schemathesis exited with ${result.code} after ${(result.ms / 1000).toFixed(0)} s`);
    code = result.code ?? 1;
  } finally {
    await stopTestStack();
  }
  process.exit(code);
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});

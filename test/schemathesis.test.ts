// The API against its own OpenAPI document: schemathesis with every check on (status codes,
// content types, response schemas and headers, positive data accepted, negative data refused,
// unsupported methods, auth enforced, stateful sequences), a bounded number of examples that fits
// `npm test`'s time budget. Zero failures expected; the one known deviation (400, not 401, for a
// missing or invalid key) is configured in test/schemathesis/hooks.py. `npm run test:schemathesis`
// runs the same with many more examples.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { call, newTenant } from './helpers/http';
import { stack } from './helpers/stack';
import { runSchemathesis } from './schemathesis/run';

describe('schemathesis: the API conforms to its OpenAPI document', function () {
  this.timeout(300_000);

  it('every operation, every check, zero failures', async () => {
    const { key, keyId, memberId } = await newTenant('schemathesis');
    const result = await runSchemathesis({ apiUrl: stack().apiUrl, key, keyId, memberId, maxExamples: Number(process.env.EVNI_ST_EXAMPLES ?? 15) });
    const summary = result.output.split('\n').slice(-40).join('\n');
    if (result.code !== 0 && process.env.EVNI_ST_LOG) fs.writeFileSync(process.env.EVNI_ST_LOG, result.output);
    const errors = stack().logLines.filter((l) => l.msg === 'unhandled error').map((l) => JSON.stringify(l));
    assert.equal(result.code, 0, `schemathesis failed (exit ${result.code}):\n${result.output.slice(-20000)}\n${errors.join('\n')}`);
    assert.match(result.output, /No issues found|passed/i, summary);
    // The run's key still works: the run never locked itself out.
    assert.equal((await call('GET', '/v1/api-keys', { key })).status, 200);
  });
});

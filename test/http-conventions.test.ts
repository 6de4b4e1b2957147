import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { createApp } from '../api/app';
import { listen } from '../api/server';
import { defineRoute, routerPath } from '../api/route';
import { routes } from '../api/routes';
import { config } from '../config';
import { openOrm } from '../db/orm';
import pino from 'pino';
import { call, newTenant } from './helpers/http';
import { stack } from './helpers/stack';

describe('HTTP conventions', () => {
  let key: string;
  before(async () => {
    ({ key } = await newTenant('conventions'));
  });

  it('unknown routes answer 404 with a detail', async () => {
    const res = await call('GET', '/v1/nothing-here', { key });
    assert.equal(res.status, 404);
    assert.match(res.body.detail, /No route/);
  });

  it('a wrong method answers 405 with a detail and the Allow header', async () => {
    const res = await call('PUT', '/v1/api-keys', { key });
    assert.equal(res.status, 405);
    assert.ok(res.body.detail);
    assert.equal(res.headers.get('allow'), 'GET, HEAD, POST, OPTIONS');
  });

  it('malformed JSON is a 422 with a detail (400 stays for API key problems)', async () => {
    const res = await call('POST', '/v1/api-keys', { key, raw: '{"name": ', headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 422);
    assert.match(res.body.detail, /Malformed JSON/);
    assert.deepEqual(res.body.errors[0].loc, ['body']);
  });

  it('a body over the limit is a 413 with a detail, and nothing is stored', async () => {
    const before = (await call('GET', '/v1/api-keys', { key })).body.items.length;
    const huge = JSON.stringify({ name: 'big', description: 'x'.repeat(config.bodyLimitBytes + 10) });
    const res = await call('POST', '/v1/api-keys', { key, raw: huge, headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 413);
    assert.ok(res.body.detail);
    assert.equal((await call('GET', '/v1/api-keys', { key })).body.items.length, before);
  });

  it('validation errors are 422 with a detail and field locations', async () => {
    const res = await call('POST', '/v1/api-keys', { key, body: { name: '' } });
    assert.equal(res.status, 422);
    assert.match(res.body.detail, /body\.name/);
    assert.deepEqual(res.body.errors[0].loc, ['body', 'name']);
  });

  it('a NUL character anywhere (body value or key, path, query, batch session) is a 422 naming where, and nothing is stored', async () => {
    const reading = { timestamp: '2026-03-02T08:00:00Z', value: 1, measurand: 'Energy.Active.Import.Register', unit: 'kWh' };
    const value = await call('POST', '/v1/sessions', { key, body: { sessionId: 'nul-1', chargingStationId: 'CP-NUL', meterValues: [reading, { ...reading, unit: 'kWh\u0000' }] } });
    assert.equal(value.status, 422, value.text);
    assert.deepEqual(value.body.errors[0].loc, ['body', 'meterValues', 1, 'unit']);
    assert.match(value.body.detail, /NUL/);
    const metaKey = await call('POST', '/v1/sessions', { key, body: { sessionId: 'nul-1', chargingStationId: 'CP-NUL', metadata: { 'a\u0000b': 1 } } });
    assert.equal(metaKey.status, 422, metaKey.text);
    assert.deepEqual(metaKey.body.errors[0].loc, ['body', 'metadata', 'a\u0000b']);
    assert.equal((await call('GET', '/v1/sessions/nul-1', { key })).status, 404, 'nothing stored');
    const pathNul = await call('GET', '/v1/sessions/nul%00x', { key });
    assert.equal(pathNul.status, 422, pathNul.text);
    assert.deepEqual(pathNul.body.errors[0].loc, ['path', 'session_id']);
    const queryNul = await call('GET', '/v1/sessions?chargingStationId=CP%00', { key });
    assert.equal(queryNul.status, 422, queryNul.text);
    assert.deepEqual(queryNul.body.errors[0].loc, ['query', 'chargingStationId']);
    const batch = await call('POST', '/v1/sessions/batch', {
      key,
      body: { sessions: [{ sessionId: 'nul-b0', chargingStationId: 'CP-NUL', meterValues: [reading] }, { sessionId: 'nul-b1', chargingStationId: 'CP-NUL\u0000', meterValues: [reading] }] },
    });
    assert.equal(batch.status, 422, batch.text);
    assert.deepEqual(batch.body.errors[0].loc, ['body', 'sessions', 1, 'chargingStationId']);
    assert.equal((await call('GET', '/v1/sessions/nul-b0', { key })).status, 404, 'nothing of the rejected batch stored');
  });

  it('logs one JSON line per request with method, path, status, duration, tenant and request id', async () => {
    const res = await call('GET', '/v1/api-keys', { key, headers: { 'x-request-id': 'trace-me-123' } });
    assert.equal(res.headers.get('x-request-id'), 'trace-me-123');
    const line = stack().logLines.find((l) => l.requestId === 'trace-me-123' && l.msg === 'request');
    assert.ok(line, 'request line logged');
    assert.equal(line.method, 'GET');
    assert.equal(line.path, '/v1/api-keys');
    assert.equal(line.status, 200);
    assert.equal(typeof line.durationMs, 'number');
    assert.match(String(line.tenantId), /^[0-9a-f-]{36}$/);
  });

  it('an unexpected error is a 500 with the request id, logged with its stack, never sent', async () => {
    // In place of a public endpoint: every route needs its row in the permission table.
    const boom = defineRoute({
      method: 'get', path: '/healthz', summary: 'fails', tags: ['test'],
      responses: { 200: { description: 'never' } },
      handler: async () => {
        throw new Error('secret internal detail');
      },
    });
    const { orm, env, logLines } = stack();
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l)) });
    const { app } = createApp({ orm, temporal: env.client, config, logger }, [...routes.filter((r) => r.path !== '/healthz'), boom]);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const port = (server.address() as { port: number }).port;
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      const body = (await res.json()) as { detail: string };
      assert.equal(res.status, 500);
      const requestId = res.headers.get('x-request-id')!;
      assert.ok(body.detail.includes(requestId));
      assert.ok(!JSON.stringify(body).includes('secret internal detail'));
      const logged = lines.find((l) => l.requestId === requestId && l.msg === 'unhandled error') as { err: { stack: string } };
      assert.ok(logged?.err.stack.includes('secret internal detail'));
    } finally {
      server.close();
      void logLines;
    }
  });

  it('healthz and readyz', async () => {
    assert.deepEqual((await call('GET', '/healthz')).body, { status: 'ok' });
    const ready = await call('GET', '/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body.checks, { postgres: 'ok', temporal: 'ok' });
  });

  it('readyz says 503 with a detail when PostgreSQL is unreachable', async () => {
    const broken = await openOrm('postgres://nobody@127.0.0.1:1/none', { connect: false });
    const { server, url } = await listen({ orm: broken, temporal: stack().env.client, config, logger: pino({ level: 'silent' }) }, 0, '127.0.0.1');
    try {
      const res = await fetch(`${url}/readyz`);
      const body = (await res.json()) as { detail: string; checks: Record<string, string> };
      assert.equal(res.status, 503);
      assert.match(body.detail, /postgres/);
      assert.equal(body.checks.temporal, 'ok');
    } finally {
      server.close();
      await broken.close();
    }
  });
});

describe('OpenAPI document and docs', () => {
  it('validates as OpenAPI 3.x', async () => {
    const res = await call('GET', '/openapi.json');
    assert.equal(res.status, 200);
    assert.match(res.body.openapi, /^3\./);
    await SwaggerParser.validate(structuredClone(res.body));
  });

  it('lists every path registered on the router, with its methods', async () => {
    const doc = (await call('GET', '/openapi.json')).body;
    const { router } = createApp({ ...stack(), temporal: stack().env.client, config, logger: pino({ level: 'silent' }) } as never);
    const registered = router.stack.flatMap((layer) => layer.methods.filter((m) => m !== 'HEAD').map((m) => `${m} ${layer.path}`));
    assert.ok(registered.length >= routes.length);
    const documented = Object.entries(doc.paths as Record<string, object>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${routerPath(p)}`));
    assert.deepEqual([...new Set(registered)].sort(), documented.sort());
  });

  it('documents bearer auth on /v1 and the error shape', async () => {
    const doc = (await call('GET', '/openapi.json')).body;
    assert.ok(doc.components.securitySchemes.bearerAuth);
    assert.deepEqual(doc.paths['/v1/api-keys'].get.security, [{ bearerAuth: [] }]);
    assert.ok(doc.paths['/v1/api-keys'].get.responses['400']);
  });

  for (const page of ['/docs', '/redoc']) {
    it(`${page} is HTML that references only local assets, all served`, async () => {
      const res = await call('GET', page);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type')!, /text\/html/);
      const refs = [...res.text.matchAll(/(?:src|href|spec-url)="([^"]+)"/g)].map((m) => m[1]);
      assert.ok(refs.length > 0);
      for (const ref of refs) {
        assert.ok(ref.startsWith('/'), `${ref} must be a local path`);
        const asset = await call('GET', ref);
        assert.equal(asset.status, 200, ref);
        assert.ok(asset.text.length > 100, ref);
      }
      assert.ok(!/https?:\/\//.test(res.text), 'no absolute URLs in the page');
    });
  }

  it('/llms.txt lists the endpoints', async () => {
    const res = await call('GET', '/llms.txt');
    assert.equal(res.status, 200);
    for (const r of routes) assert.ok(res.text.includes(`${r.method.toUpperCase()} ${r.path}`));
  });

  it('npm run openapi prints the same document without starting a server', () => {
    const root = path.resolve(__dirname, '..');
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'api/openapi-cli.ts'], { cwd: root, encoding: 'utf8', env: { ...process.env, DATABASE_URL: '', TEMPORAL_ADDRESS: '' } });
    const doc = JSON.parse(out);
    assert.ok(doc.paths['/v1/api-keys']);
  });
});

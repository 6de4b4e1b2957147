// GET /v1/models lists the committed base models with the metrics their cards carry.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { call, newTenant } from './helpers/http';

const ARTIFACTS = path.resolve(__dirname, '..', 'models', 'artifacts');

describe('models endpoints', () => {
  let key: string;
  const cards = fs.existsSync(ARTIFACTS)
    ? fs.readdirSync(ARTIFACTS).filter((f) => f.endsWith('.card.json')).map((f) => JSON.parse(fs.readFileSync(path.join(ARTIFACTS, f), 'utf8')))
    : [];
  before(async () => {
    ({ key } = await newTenant('models'));
  });

  it('lists every committed base model with its card\'s metrics', async () => {
    assert.ok(cards.length >= 3, 'CSAR-2, CSAR-C-2 and SORC cards are committed');
    const res = await call('GET', '/v1/models', { key });
    assert.equal(res.status, 200);
    const byId = new Map(res.body.models.map((m: { id: string }) => [m.id, m]));
    for (const card of cards) {
      const m = byId.get(card.id) as Record<string, unknown> | undefined;
      assert.ok(m, `model ${card.id} listed`);
      assert.equal(m.isBase, true);
      assert.equal(m.status, 'active');
      assert.deepEqual(m.metrics, card.metrics);
      assert.equal(m.version, card.version);
    }
    for (const type of ['csar_2', 'csar_c_2', 'sorc']) assert.ok(res.body.models.some((m: { type: string }) => m.type === type), type);
  });

  it('shows one model in detail, and 404 for an unknown one', async () => {
    const res = await call('GET', `/v1/models/${encodeURIComponent(cards[0].id)}`, { key });
    assert.equal(res.status, 200);
    assert.match(res.body.s3Path, /\.onnx$/);
    assert.ok(fs.existsSync(path.resolve(__dirname, '..', res.body.s3Path)), 'the artifact is where the registry says');
    assert.equal(res.body.featureVersion, cards[0].featureVersion);
    assert.equal((await call('GET', '/v1/models/no-such-model', { key })).status, 404);
  });
});

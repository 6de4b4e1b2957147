import assert from 'node:assert/strict';
import { copyBinary } from '../db/sql';
import { CopyBinaryWriter, uuidField } from '../db/copy-binary';
import { stack } from './helpers/stack';

describe('binary COPY', () => {
  it('stores every field type as written: uuids, integers, doubles, timestamps, UTF-8 text, booleans and NULLs', async () => {
    const em = stack().orm.em.fork();
    const rows = [
      { id: '0b6f5f3e-3c7a-4e0f-9d5e-2f1a7c9b8e01', n: 2147483647, s: -32768, d: 0.1, t: Date.UTC(2026, 2, 2, 8) * 1000 + 123456, x: 'Energy.Active.Import.Register', b: true },
      { id: 'FFFFFFFF-0000-4000-8000-000000000000', n: -1, s: 9, d: 1e10, t: Date.UTC(2000, 0, 1) * 1000, x: 'Ωmega ⚡ 🚗 tab\there', b: false },
      { id: '00000000-0000-0000-0000-000000000000', n: 0, s: null, d: 5e-324, t: Date.UTC(1999, 11, 31, 23, 59, 59) * 1000 + 999999, x: null, b: false },
    ];
    const stored = await em.transactional(async (tem) => {
      const conn = tem.getConnection();
      await conn.execute('create temporary table copy_probe (id uuid, n int, s smallint, d float8, t timestamptz, x varchar(64), b boolean) on commit drop', [], 'run', tem.getTransactionContext());
      const w = new CopyBinaryWriter(8);
      for (const r of rows) {
        w.row(7).raw(uuidField(r.id)).int4(r.n);
        if (r.s === null) w.null();
        else w.int2(r.s);
        w.float8(r.d).timestamptz(r.t).text(r.x).bool(r.b);
      }
      await copyBinary(tem, 'copy_probe', 'id, n, s, d, t, x, b', w.finish());
      return conn.execute(
        `select id::text, n, s, d, (extract(epoch from t) * 1000000)::bigint::text as t, x, b from copy_probe order by n desc`,
        [],
        'all',
        tem.getTransactionContext(),
      );
    });
    assert.deepEqual(
      stored,
      [...rows].sort((a, b) => b.n - a.n).map((r) => ({ ...r, id: r.id.toLowerCase(), t: String(r.t) })),
    );
  });

  it('writes text from a string without caching it, text from UTF-8 bytes, and jsonb', async () => {
    const em = stack().orm.em.fork();
    const rows = [
      { n: 1, u: 'session-Ω-1', b: '{"a":"\\t é 🚗"}', j: '{"maxPowerKw": 22, "note": "ü"}' },
      { n: 2, u: null, b: '', j: null },
      { n: 3, u: 'x'.repeat(5000), b: 'y'.repeat(100_000), j: '[1, 2.5, null, "z"]' },
    ];
    const stored = await em.transactional(async (tem) => {
      const conn = tem.getConnection();
      await conn.execute('create temporary table copy_probe2 (n int, u text, b text, j jsonb) on commit drop', [], 'run', tem.getTransactionContext());
      const w = new CopyBinaryWriter(8);
      for (const r of rows) w.row(4).int4(r.n).uniqueText(r.u).utf8(Buffer.from(r.b)).jsonb(r.j);
      const data = w.finish();
      assert.ok(data.length > 105_000);
      await copyBinary(tem, 'copy_probe2', 'n, u, b, j', data);
      return conn.execute('select n, u, b, j from copy_probe2 order by n', [], 'all', tem.getTransactionContext());
    });
    assert.deepEqual(
      stored,
      rows.map((r) => ({ ...r, j: r.j === null ? null : JSON.parse(r.j) })),
    );
  });

  it('refuses what is not a uuid', () => {
    assert.throws(() => uuidField('not-a-uuid'), /not a uuid/);
  });
});

import assert from 'node:assert/strict';
import { BatchBodySplitter, JsonShapeError } from '../../domain/batches/json-stream';

/** Feeds `body` in pieces of `size` bytes; returns the elements and other top-level values seen. */
function split(body: string | Buffer, size: number, maxValueBytes = 1 << 20) {
  const elements: unknown[] = [];
  const others: Record<string, unknown> = {};
  let notArray: unknown = undefined;
  const s = new BatchBodySplitter(
    {
      isArrayKey: (k) => k === 'sessions',
      onElement: (text, i) => {
        assert.equal(i, elements.length);
        elements.push(JSON.parse(text));
      },
      onOtherValue: (k, v) => (others[k] = v),
      onNotArray: (_k, v) => (notArray = v),
    },
    maxValueBytes,
  );
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  for (let i = 0; i < buf.length; i += size) s.feed(buf.subarray(i, i + size));
  s.end();
  return { elements, others, notArray, empty: s.empty };
}

const shapeError = (fn: () => unknown, shape: boolean) =>
  assert.throws(fn, (err: unknown) => err instanceof JsonShapeError && err.shape === shape);

describe('batch body splitter', () => {
  const sessions = [
    { sessionId: 'a "quoted" \\ id', chargingStationId: 'CP-ä-💡', meterValues: [{ timestamp: '2026-01-01T00:00:00Z', value: 1.5e3 }] },
    { sessionId: 'b}]', chargingStationId: '[{', metadata: { nested: [[{}], { x: null }], s: '\\"' } },
    { sessionId: 'c', chargingStationId: 'd', meterValues: [] },
  ];
  const body = JSON.stringify({ before: { sessions: [1] }, sessions: [...sessions, 42, 'x', null, [1, [2]]], after: [true, false] }, null, 1);

  it('hands over every element whatever the chunk boundaries, multi-byte characters included', () => {
    for (const size of [1, 2, 3, 5, 7, 64, 4096]) {
      const { elements, others } = split(body, size);
      assert.deepEqual(elements, [...sessions, 42, 'x', null, [1, [2]]], `chunk size ${size}`);
      assert.deepEqual(others, { before: { sessions: [1] }, after: [true, false] });
    }
  });

  it('takes an empty array, an empty object and an empty body', () => {
    assert.deepEqual(split('{"sessions": [ ]}', 3).elements, []);
    assert.deepEqual(split(' {} ', 1).elements, []);
    assert.equal(split('  \n', 1).empty, true);
  });

  it('reports a sessions value that is not an array', () => {
    assert.deepEqual(split('{"sessions": {"a": 1}}', 2).notArray, { a: 1 });
    assert.equal(split('{"sessions": null}', 2).notArray, null);
  });

  it('refuses what is not a JSON object of the expected shape', () => {
    shapeError(() => split('[1, 2]', 4), true);
    shapeError(() => split('"text"', 4), true);
    shapeError(() => split('{"sessions": [1], "sessions": [2]}', 4), true);
    shapeError(() => split(`{"sessions": [${JSON.stringify({ big: 'x'.repeat(5000) })}]}`, 100, 1000), true);
  });

  it('refuses malformed skeletons (the elements themselves go to JSON.parse)', () => {
    for (const bad of ['{"sessions": [1,]}', '{"sessions": [,1]}', '{"sessions": [1 2]}', '{"sessions": [1]', '{"sessions" [1]}', '{sessions: [1]}', '{"a": 1,}', '{"a": 1} x', '{"a": 1']) {
      shapeError(() => split(bad, 3), false);
    }
  });
});

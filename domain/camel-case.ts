// Request keys: clients may send the reference's older snake_case names. Shared by the API, which
// reads requests, and the batch worker, which reads staged batch sessions as the API read them.

const snakeToCamel = (k: string) => k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * Requests accept the reference's older snake_case names as aliases of the camelCase ones.
 * Client-owned free-form objects (`metadata`) keep their keys as sent.
 */
export function camelizeKeys(value: unknown): unknown {
  // One pass; most requests already use camelCase, so arrays and objects that need no change are
  // returned as they are and copied only from the first entry that does.
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = camelizeKeys(value[i]);
      if (v !== value[i]) (out ??= value.slice())[i] = v;
    }
    return out ?? value;
  }
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  let out: Record<string, unknown> | undefined;
  entries.forEach(([k, v], i) => {
    const key = snakeToCamel(k);
    const next = key === 'metadata' ? v : camelizeKeys(v);
    if (!out && (key !== k || next !== v)) out = Object.fromEntries(entries.slice(0, i));
    if (!out) return;
    if (key in out && key !== k) return; // the camelCase spelling wins when both are sent
    out[key] = next;
  });
  return out ?? value;
}

import { Client, Connection } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { NativeConnection } from '@temporalio/worker';
import { ALL_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';

async function retry<T>(what: string, fn: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

export async function connectClient(address: string, namespace: string): Promise<Client> {
  const connection = await retry(`connecting to Temporal at ${address}`, () => Connection.connect({ address }));
  return new Client({ connection, namespace });
}

export function connectWorker(address: string): Promise<NativeConnection> {
  return retry(`connecting worker to Temporal at ${address}`, () => NativeConnection.connect({ address }));
}

/** Registers our search attributes on a server we did not start ourselves; existing ones are kept. */
export async function ensureSearchAttributes(client: Client, namespace: string): Promise<void> {
  const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace });
  const missing = ALL_SEARCH_ATTRIBUTES.filter((a) => !customAttributes?.[a.name]);
  if (missing.length === 0) return;
  await client.connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((a) => [a.name, encodeSearchAttributeIndexedValueType(a.type)!])),
  });
}

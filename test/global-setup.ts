// Mocha global fixtures: one real stack for the whole run (starting Temporal and PostgreSQL per
// file would cost more than the tests).
import { startTestStack, stopTestStack } from './helpers/stack';

export async function mochaGlobalSetup(this: unknown) {
  await startTestStack();
}

export async function mochaGlobalTeardown(this: unknown) {
  await stopTestStack();
}

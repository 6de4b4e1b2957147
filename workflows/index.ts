// Workflow code: deterministic, no Node or ORM imports. The worker bundles this file.
export { batchWorkflow } from './batch';
export { sessionActor } from './session';

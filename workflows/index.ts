// Workflow code: deterministic, no Node or ORM imports. The worker bundles this file.
export { sessionActor } from './session';

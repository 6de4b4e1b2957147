// The worker's workflow bundle: deterministic code only, no Node or ORM imports. Each workflow has
// its folder: `workflow.ts` (the code) beside `contract.ts` (input, id, updates/queries/signals,
// search attributes, activities), which clients and activities import.
export { batchWorkflow } from './batch/workflow';
export { dataQualityWorkflow } from './data-quality/workflow';
export { explanationWorkflow } from './explanation/workflow';
export { fineTuneWorkflow } from './fine-tune/workflow';
export { sessionActor } from './session/workflow';
export { shadeRun } from './shade/workflow';
export { webhookDelivery } from './webhook-delivery/workflow';

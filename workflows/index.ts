/** The workflows the worker registers (bundled for Temporal's deterministic sandbox). */
export { rolloutWorkflow } from './rollout';
export { unitWorkflow } from './unit';
export { fanoutWorkflow } from './fanout';
export { batchWorkflow } from './batch';

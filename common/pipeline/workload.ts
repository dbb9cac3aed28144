import type { ModelDeploymentSpec } from './deployment-types.js';
import type { PipelineSpec } from './types.js';

/** What a user submits: a batch pipeline or an online model deployment. */
export type WorkloadSpec = PipelineSpec | ModelDeploymentSpec;

export const WORKLOAD_KINDS = ['Pipeline', 'ModelDeployment'] as const;

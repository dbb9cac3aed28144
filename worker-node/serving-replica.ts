import { toGridlineError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { ReplicaSpec } from '../common/replica-spec.js';
import type { ServingHost } from '../services/model-serving/serving-host.js';
import type { ReplicaRunPhase, StageReplica } from '../services/stages/stage-replica.js';

export interface ServingReplicaDeps {
  readonly serving: ServingHost;
  readonly useGpu: boolean;
  readonly logger: Logger;
  readonly onPhase: (replica: StageReplica) => void;
}

/**
 * A ModelDeployment replica: it holds its model at the node's model server. It reports `running`
 * only once the model loaded and answered its warm-up inference, which is when the coordinator
 * routes requests to this node; `failed` with the reason otherwise. Stopping releases the hold.
 */
export function startServingReplica(spec: ReplicaSpec, deps: ServingReplicaDeps): StageReplica {
  const log = deps.logger.child({ replica: spec.replicaId, model: spec.serving?.model.name });
  let phase: ReplicaRunPhase = 'starting';
  let message = '';
  const lease = spec.serving === null
    ? null
    : deps.serving.acquire(spec.serving, { useGpu: deps.useGpu });
  const replica: StageReplica = {
    spec,
    get phase() { return phase; },
    get message() { return message; },
    processed: 0,
    async stop() {
      if (phase === 'stopped') return;
      await lease?.release();
      phase = 'stopped';
      deps.onPhase(replica);
    },
  };
  if (lease === null) {
    phase = 'failed';
    message = 'INTERNAL: a model-server replica without a model to serve';
    return replica;
  }
  lease.ready.then(() => {
    if (phase !== 'starting') return;
    phase = 'running';
    log.info('serving replica ready');
    deps.onPhase(replica);
    // Its session died later: report it, so the coordinator withdraws the route and restarts it.
    lease.onFailure((reason) => {
      if (phase !== 'running') return;
      phase = 'failed';
      message = `MODEL_ERROR: ${reason}`;
      deps.onPhase(replica);
    });
  }, (err: unknown) => {
    if (phase !== 'starting') return;
    const error = toGridlineError(err);
    phase = 'failed';
    message = `${error.code}: ${error.message}`;
    log.error({ code: error.code, err: error.message }, 'serving replica failed');
    deps.onPhase(replica);
  });
  return replica;
}

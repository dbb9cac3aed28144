// Original file: proto/cluster.proto

import type { ReplicaPhase as _gridline_cluster_v1_ReplicaPhase, ReplicaPhase__Output as _gridline_cluster_v1_ReplicaPhase__Output } from '../../../gridline/cluster/v1/ReplicaPhase.js';
import type { Long } from '@grpc/proto-loader';

export interface ReplicaState {
  'replicaId'?: (string);
  'runId'?: (string);
  'stage'?: (string);
  'phase'?: (_gridline_cluster_v1_ReplicaPhase);
  'message'?: (string);
  'processed'?: (number | string | Long);
}

export interface ReplicaState__Output {
  'replicaId': (string);
  'runId': (string);
  'stage': (string);
  'phase': (_gridline_cluster_v1_ReplicaPhase__Output);
  'message': (string);
  'processed': (string);
}

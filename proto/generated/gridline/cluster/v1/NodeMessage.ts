// Original file: proto/cluster.proto

import type { Heartbeat as _gridline_cluster_v1_Heartbeat, Heartbeat__Output as _gridline_cluster_v1_Heartbeat__Output } from '../../../gridline/cluster/v1/Heartbeat.js';
import type { ReplicaState as _gridline_cluster_v1_ReplicaState, ReplicaState__Output as _gridline_cluster_v1_ReplicaState__Output } from '../../../gridline/cluster/v1/ReplicaState.js';

export interface NodeMessage {
  'heartbeat'?: (_gridline_cluster_v1_Heartbeat | null);
  'replica'?: (_gridline_cluster_v1_ReplicaState | null);
  'body'?: "heartbeat"|"replica";
}

export interface NodeMessage__Output {
  'heartbeat'?: (_gridline_cluster_v1_Heartbeat__Output | null);
  'replica'?: (_gridline_cluster_v1_ReplicaState__Output | null);
  'body'?: "heartbeat"|"replica";
}

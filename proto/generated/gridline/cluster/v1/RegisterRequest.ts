// Original file: proto/cluster.proto

import type { Resources as _gridline_cluster_v1_Resources, Resources__Output as _gridline_cluster_v1_Resources__Output } from '../../../gridline/cluster/v1/Resources.js';
import type { ReplicaState as _gridline_cluster_v1_ReplicaState, ReplicaState__Output as _gridline_cluster_v1_ReplicaState__Output } from '../../../gridline/cluster/v1/ReplicaState.js';
import type { ServedModel as _gridline_cluster_v1_ServedModel, ServedModel__Output as _gridline_cluster_v1_ServedModel__Output } from '../../../gridline/cluster/v1/ServedModel.js';

export interface RegisterRequest {
  'joinToken'?: (string);
  'nodeId'?: (string);
  'hostname'?: (string);
  'resources'?: (_gridline_cluster_v1_Resources | null);
  'labels'?: ({[key: string]: string});
  'agentVersion'?: (string);
  'replicas'?: (_gridline_cluster_v1_ReplicaState)[];
  'inferenceAddress'?: (string);
  'servedModels'?: (_gridline_cluster_v1_ServedModel)[];
}

export interface RegisterRequest__Output {
  'joinToken': (string);
  'nodeId': (string);
  'hostname': (string);
  'resources': (_gridline_cluster_v1_Resources__Output | null);
  'labels': ({[key: string]: string});
  'agentVersion': (string);
  'replicas': (_gridline_cluster_v1_ReplicaState__Output)[];
  'inferenceAddress': (string);
  'servedModels': (_gridline_cluster_v1_ServedModel__Output)[];
}

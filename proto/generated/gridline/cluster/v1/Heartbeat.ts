// Original file: proto/cluster.proto

import type { ReplicaState as _gridline_cluster_v1_ReplicaState, ReplicaState__Output as _gridline_cluster_v1_ReplicaState__Output } from '../../../gridline/cluster/v1/ReplicaState.js';
import type { Long } from '@grpc/proto-loader';

export interface Heartbeat {
  'seq'?: (number | string | Long);
  'replicas'?: (_gridline_cluster_v1_ReplicaState)[];
  'load1'?: (number | string);
  'rssBytes'?: (number | string | Long);
}

export interface Heartbeat__Output {
  'seq': (string);
  'replicas': (_gridline_cluster_v1_ReplicaState__Output)[];
  'load1': (number);
  'rssBytes': (string);
}

// Original file: proto/cluster.proto

import type { Gpu as _gridline_cluster_v1_Gpu, Gpu__Output as _gridline_cluster_v1_Gpu__Output } from '../../../gridline/cluster/v1/Gpu.js';
import type { Long } from '@grpc/proto-loader';

export interface Resources {
  'cpu'?: (number | string);
  'memoryBytes'?: (number | string | Long);
  'gpus'?: (_gridline_cluster_v1_Gpu)[];
}

export interface Resources__Output {
  'cpu': (number);
  'memoryBytes': (string);
  'gpus': (_gridline_cluster_v1_Gpu__Output)[];
}

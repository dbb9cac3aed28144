// Original file: proto/cluster.proto

import type { Long } from '@grpc/proto-loader';

export interface Gpu {
  'index'?: (number);
  'uuid'?: (string);
  'model'?: (string);
  'memoryBytes'?: (number | string | Long);
  'simulated'?: (boolean);
}

export interface Gpu__Output {
  'index': (number);
  'uuid': (string);
  'model': (string);
  'memoryBytes': (string);
  'simulated': (boolean);
}

// Original file: proto/cluster.proto


export interface StopReplica {
  'replicaId'?: (string);
  'drain'?: (boolean);
}

export interface StopReplica__Output {
  'replicaId': (string);
  'drain': (boolean);
}

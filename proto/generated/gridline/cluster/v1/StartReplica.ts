// Original file: proto/cluster.proto


export interface StartReplica {
  'replicaId'?: (string);
  'runId'?: (string);
  'stage'?: (string);
  'kind'?: (string);
  'specJson'?: (string);
  'gpuIndexes'?: (number)[];
}

export interface StartReplica__Output {
  'replicaId': (string);
  'runId': (string);
  'stage': (string);
  'kind': (string);
  'specJson': (string);
  'gpuIndexes': (number)[];
}

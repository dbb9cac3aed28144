// Original file: proto/cluster.proto


export interface Settings {
  'heartbeatIntervalMs'?: (number);
  'ttlMs'?: (number);
  'serviceToken'?: (string);
}

export interface Settings__Output {
  'heartbeatIntervalMs': (number);
  'ttlMs': (number);
  'serviceToken': (string);
}

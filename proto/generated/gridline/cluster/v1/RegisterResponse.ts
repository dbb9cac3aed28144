// Original file: proto/cluster.proto


export interface RegisterResponse {
  'nodeId'?: (string);
  'nodeCredential'?: (string);
  'heartbeatIntervalMs'?: (number);
  'ttlMs'?: (number);
  'redisUrl'?: (string);
  'keyPrefix'?: (string);
  'serviceToken'?: (string);
}

export interface RegisterResponse__Output {
  'nodeId': (string);
  'nodeCredential': (string);
  'heartbeatIntervalMs': (number);
  'ttlMs': (number);
  'redisUrl': (string);
  'keyPrefix': (string);
  'serviceToken': (string);
}

// Original file: proto/cluster.proto


export interface ServedModel {
  'name'?: (string);
  'version'?: (string);
}

export interface ServedModel__Output {
  'name': (string);
  'version': (string);
}

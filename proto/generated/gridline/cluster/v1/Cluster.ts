// Original file: proto/cluster.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CoordinatorMessage as _gridline_cluster_v1_CoordinatorMessage, CoordinatorMessage__Output as _gridline_cluster_v1_CoordinatorMessage__Output } from '../../../gridline/cluster/v1/CoordinatorMessage.js';
import type { NodeMessage as _gridline_cluster_v1_NodeMessage, NodeMessage__Output as _gridline_cluster_v1_NodeMessage__Output } from '../../../gridline/cluster/v1/NodeMessage.js';
import type { RegisterRequest as _gridline_cluster_v1_RegisterRequest, RegisterRequest__Output as _gridline_cluster_v1_RegisterRequest__Output } from '../../../gridline/cluster/v1/RegisterRequest.js';
import type { RegisterResponse as _gridline_cluster_v1_RegisterResponse, RegisterResponse__Output as _gridline_cluster_v1_RegisterResponse__Output } from '../../../gridline/cluster/v1/RegisterResponse.js';

export interface ClusterClient extends grpc.Client {
  Connect(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_gridline_cluster_v1_NodeMessage, _gridline_cluster_v1_CoordinatorMessage__Output>;
  Connect(options?: grpc.CallOptions): grpc.ClientDuplexStream<_gridline_cluster_v1_NodeMessage, _gridline_cluster_v1_CoordinatorMessage__Output>;
  connect(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_gridline_cluster_v1_NodeMessage, _gridline_cluster_v1_CoordinatorMessage__Output>;
  connect(options?: grpc.CallOptions): grpc.ClientDuplexStream<_gridline_cluster_v1_NodeMessage, _gridline_cluster_v1_CoordinatorMessage__Output>;
  
  Register(argument: _gridline_cluster_v1_RegisterRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_gridline_cluster_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  Register(argument: _gridline_cluster_v1_RegisterRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_gridline_cluster_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  Register(argument: _gridline_cluster_v1_RegisterRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_gridline_cluster_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  Register(argument: _gridline_cluster_v1_RegisterRequest, callback: grpc.requestCallback<_gridline_cluster_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  register(argument: _gridline_cluster_v1_RegisterRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_gridline_cluster_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  register(argument: _gridline_cluster_v1_RegisterRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_gridline_cluster_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  register(argument: _gridline_cluster_v1_RegisterRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_gridline_cluster_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  register(argument: _gridline_cluster_v1_RegisterRequest, callback: grpc.requestCallback<_gridline_cluster_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface ClusterHandlers extends grpc.UntypedServiceImplementation {
  Connect: grpc.handleBidiStreamingCall<_gridline_cluster_v1_NodeMessage__Output, _gridline_cluster_v1_CoordinatorMessage>;
  
  Register: grpc.handleUnaryCall<_gridline_cluster_v1_RegisterRequest__Output, _gridline_cluster_v1_RegisterResponse>;
  
}

export interface ClusterDefinition extends grpc.ServiceDefinition {
  Connect: MethodDefinition<_gridline_cluster_v1_NodeMessage, _gridline_cluster_v1_CoordinatorMessage, _gridline_cluster_v1_NodeMessage__Output, _gridline_cluster_v1_CoordinatorMessage__Output>
  Register: MethodDefinition<_gridline_cluster_v1_RegisterRequest, _gridline_cluster_v1_RegisterResponse, _gridline_cluster_v1_RegisterRequest__Output, _gridline_cluster_v1_RegisterResponse__Output>
}

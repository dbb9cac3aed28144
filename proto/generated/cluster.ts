import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { ClusterClient as _gridline_cluster_v1_ClusterClient, ClusterDefinition as _gridline_cluster_v1_ClusterDefinition } from './gridline/cluster/v1/Cluster.js';
import type { CoordinatorMessage as _gridline_cluster_v1_CoordinatorMessage, CoordinatorMessage__Output as _gridline_cluster_v1_CoordinatorMessage__Output } from './gridline/cluster/v1/CoordinatorMessage.js';
import type { Gpu as _gridline_cluster_v1_Gpu, Gpu__Output as _gridline_cluster_v1_Gpu__Output } from './gridline/cluster/v1/Gpu.js';
import type { Heartbeat as _gridline_cluster_v1_Heartbeat, Heartbeat__Output as _gridline_cluster_v1_Heartbeat__Output } from './gridline/cluster/v1/Heartbeat.js';
import type { NodeMessage as _gridline_cluster_v1_NodeMessage, NodeMessage__Output as _gridline_cluster_v1_NodeMessage__Output } from './gridline/cluster/v1/NodeMessage.js';
import type { RegisterRequest as _gridline_cluster_v1_RegisterRequest, RegisterRequest__Output as _gridline_cluster_v1_RegisterRequest__Output } from './gridline/cluster/v1/RegisterRequest.js';
import type { RegisterResponse as _gridline_cluster_v1_RegisterResponse, RegisterResponse__Output as _gridline_cluster_v1_RegisterResponse__Output } from './gridline/cluster/v1/RegisterResponse.js';
import type { ReplicaState as _gridline_cluster_v1_ReplicaState, ReplicaState__Output as _gridline_cluster_v1_ReplicaState__Output } from './gridline/cluster/v1/ReplicaState.js';
import type { Resources as _gridline_cluster_v1_Resources, Resources__Output as _gridline_cluster_v1_Resources__Output } from './gridline/cluster/v1/Resources.js';
import type { ServedModel as _gridline_cluster_v1_ServedModel, ServedModel__Output as _gridline_cluster_v1_ServedModel__Output } from './gridline/cluster/v1/ServedModel.js';
import type { Settings as _gridline_cluster_v1_Settings, Settings__Output as _gridline_cluster_v1_Settings__Output } from './gridline/cluster/v1/Settings.js';
import type { StartReplica as _gridline_cluster_v1_StartReplica, StartReplica__Output as _gridline_cluster_v1_StartReplica__Output } from './gridline/cluster/v1/StartReplica.js';
import type { StopReplica as _gridline_cluster_v1_StopReplica, StopReplica__Output as _gridline_cluster_v1_StopReplica__Output } from './gridline/cluster/v1/StopReplica.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  gridline: {
    cluster: {
      v1: {
        Cluster: SubtypeConstructor<typeof grpc.Client, _gridline_cluster_v1_ClusterClient> & { service: _gridline_cluster_v1_ClusterDefinition }
        CoordinatorMessage: MessageTypeDefinition<_gridline_cluster_v1_CoordinatorMessage, _gridline_cluster_v1_CoordinatorMessage__Output>
        Gpu: MessageTypeDefinition<_gridline_cluster_v1_Gpu, _gridline_cluster_v1_Gpu__Output>
        Heartbeat: MessageTypeDefinition<_gridline_cluster_v1_Heartbeat, _gridline_cluster_v1_Heartbeat__Output>
        NodeMessage: MessageTypeDefinition<_gridline_cluster_v1_NodeMessage, _gridline_cluster_v1_NodeMessage__Output>
        RegisterRequest: MessageTypeDefinition<_gridline_cluster_v1_RegisterRequest, _gridline_cluster_v1_RegisterRequest__Output>
        RegisterResponse: MessageTypeDefinition<_gridline_cluster_v1_RegisterResponse, _gridline_cluster_v1_RegisterResponse__Output>
        ReplicaPhase: EnumTypeDefinition
        ReplicaState: MessageTypeDefinition<_gridline_cluster_v1_ReplicaState, _gridline_cluster_v1_ReplicaState__Output>
        Resources: MessageTypeDefinition<_gridline_cluster_v1_Resources, _gridline_cluster_v1_Resources__Output>
        ServedModel: MessageTypeDefinition<_gridline_cluster_v1_ServedModel, _gridline_cluster_v1_ServedModel__Output>
        Settings: MessageTypeDefinition<_gridline_cluster_v1_Settings, _gridline_cluster_v1_Settings__Output>
        StartReplica: MessageTypeDefinition<_gridline_cluster_v1_StartReplica, _gridline_cluster_v1_StartReplica__Output>
        StopReplica: MessageTypeDefinition<_gridline_cluster_v1_StopReplica, _gridline_cluster_v1_StopReplica__Output>
      }
    }
  }
}


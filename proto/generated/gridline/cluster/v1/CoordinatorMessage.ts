// Original file: proto/cluster.proto

import type { StartReplica as _gridline_cluster_v1_StartReplica, StartReplica__Output as _gridline_cluster_v1_StartReplica__Output } from '../../../gridline/cluster/v1/StartReplica.js';
import type { StopReplica as _gridline_cluster_v1_StopReplica, StopReplica__Output as _gridline_cluster_v1_StopReplica__Output } from '../../../gridline/cluster/v1/StopReplica.js';
import type { Settings as _gridline_cluster_v1_Settings, Settings__Output as _gridline_cluster_v1_Settings__Output } from '../../../gridline/cluster/v1/Settings.js';

export interface CoordinatorMessage {
  'start'?: (_gridline_cluster_v1_StartReplica | null);
  'stop'?: (_gridline_cluster_v1_StopReplica | null);
  'settings'?: (_gridline_cluster_v1_Settings | null);
  'body'?: "start"|"stop"|"settings";
}

export interface CoordinatorMessage__Output {
  'start'?: (_gridline_cluster_v1_StartReplica__Output | null);
  'stop'?: (_gridline_cluster_v1_StopReplica__Output | null);
  'settings'?: (_gridline_cluster_v1_Settings__Output | null);
  'body'?: "start"|"stop"|"settings";
}

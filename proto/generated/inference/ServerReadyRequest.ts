// Original file: proto/inference.proto


export interface ServerReadyRequest {
}

export interface ServerReadyRequest__Output {
}

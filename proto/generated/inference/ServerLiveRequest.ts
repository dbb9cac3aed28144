// Original file: proto/inference.proto


export interface ServerLiveRequest {
}

export interface ServerLiveRequest__Output {
}

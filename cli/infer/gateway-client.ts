import { GridlineError } from '../../common/errors.js';
import type { ErrorCode } from '../../common/error-codes.js';
import type { InferResponse } from '../../common/oip/infer-messages.js';
import { decodeRestResponse, encodeRestRequest, type RestRequestOptions } from '../../common/oip/rest-client-codec.js';
import { INFERENCE_HEADER_CONTENT_LENGTH } from '../../common/oip/rest-codec.js';
import type { Tensor } from '../../common/tensor.js';
import { tlsFetch } from '../../common/tls/tls-fetch.js';
import type { TlsClientMaterial } from '../../common/tls/tls-material.js';
import { transportHint } from '../tls/transport-hint.js';

/** A model's metadata as OIP's REST API returns it. */
export interface ModelMetadata {
  readonly name: string;
  readonly versions?: readonly string[];
  readonly platform: string;
  readonly inputs: readonly { readonly name: string; readonly datatype: string; readonly shape: readonly number[] }[];
  readonly outputs: readonly { readonly name: string; readonly datatype: string; readonly shape: readonly number[] }[];
}

const CODE_OF_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'INVALID_ARGUMENT', 404: 'NOT_FOUND', 408: 'DEADLINE_EXCEEDED', 413: 'PAYLOAD_TOO_LARGE',
  429: 'UNAVAILABLE', 499: 'CANCELLED', 503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED',
};

/** The CLI's Open Inference Protocol REST client for a gateway (binary tensors both ways). */
export class GatewayClient {
  private readonly tlsFetch: typeof fetch;

  /** `tls`: the CA to trust for an https:// gateway (null: the system's CAs). */
  constructor(readonly baseUrl: string, private readonly apiKey: string | null = null, private readonly timeoutMs = 30_000, tls: TlsClientMaterial | null = null) {
    this.tlsFetch = tlsFetch(tls);
  }

  private modelPath(model: string, version: string | undefined): string {
    return `/v2/models/${encodeURIComponent(model)}${version ? `/versions/${encodeURIComponent(version)}` : ''}`;
  }

  async metadata(model: string, version?: string): Promise<ModelMetadata> {
    const res = await this.fetch(this.modelPath(model, version), { method: 'GET' });
    return (await res.json()) as ModelMetadata;
  }

  /** Sends an OIP JSON request body as written (e.g. from a file). */
  async inferJson(model: string, version: string | undefined, body: string): Promise<InferResponse> {
    const res = await this.fetch(`${this.modelPath(model, version)}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    return this.decode(res);
  }

  /** Sends tensors as raw bytes (Triton's binary tensor extension) and asks for binary outputs. */
  async infer(model: string, version: string | undefined, inputs: readonly { name: string; tensor: Tensor }[], options: RestRequestOptions = {}): Promise<InferResponse> {
    const { body, headerLength } = encodeRestRequest(inputs, options);
    const res = await this.fetch(`${this.modelPath(model, version)}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', [INFERENCE_HEADER_CONTENT_LENGTH]: String(headerLength) },
      body,
    });
    return this.decode(res);
  }

  private async decode(res: Response): Promise<InferResponse> {
    const header = res.headers.get(INFERENCE_HEADER_CONTENT_LENGTH);
    const body = new Uint8Array(await res.arrayBuffer().catch((err: unknown) => {
      throw this.transportError(err);
    }));
    return decodeRestResponse(body, header === null ? null : Number(header));
  }

  private transportError(err: unknown): GridlineError {
    return transportErrorOf(err, this.baseUrl, this.timeoutMs);
  }

  private async fetch(path: string, init: RequestInit): Promise<Response> {
    let res: Response;
    try {
      const headers = new Headers(init.headers);
      if (this.apiKey !== null) headers.set('authorization', `Bearer ${this.apiKey}`);
      res = await this.tlsFetch(new URL(path, this.baseUrl), { ...init, headers, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw this.transportError(err);
    }
    if (res.ok) return res;
    const text = await res.text();
    let message = text;
    try {
      const json = JSON.parse(text) as { error?: unknown };
      if (typeof json.error === 'string') message = json.error;
    } catch {
      // not JSON: keep the text
    }
    throw new GridlineError(CODE_OF_STATUS[res.status] ?? 'INTERNAL', `the gateway answered ${res.status}: ${message}`);
  }
}

/** A timeout says so; anything else means nothing answers at the address. */
function transportErrorOf(err: unknown, baseUrl: string, timeoutMs: number): GridlineError {
  if ((err as Error).name === 'TimeoutError') {
    return new GridlineError('DEADLINE_EXCEEDED', `the gateway at ${baseUrl} gave no answer within ${timeoutMs} ms`, { retryable: true, cause: err });
  }
  const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
  return new GridlineError('UNAVAILABLE', `cannot reach the gateway at ${baseUrl} (${cause})${transportHint(baseUrl, cause) ?? ': start one with `gridline up` or `gridline gateway`, or set GRIDLINE_GATEWAY'}`, { retryable: true, cause: err });
}

/** GRIDLINE_GATEWAY, else the local default: https:// when the CLI was given a CA to trust. */
export function defaultGatewayUrl(secure = false): string {
  return process.env.GRIDLINE_GATEWAY ?? `${secure ? 'https' : 'http'}://127.0.0.1:8000`;
}

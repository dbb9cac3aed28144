import { GridlineError } from '../common/errors.js';
import type { ErrorCode } from '../common/error-codes.js';
import { tlsFetch } from '../common/tls/tls-fetch.js';
import type { TlsClientMaterial } from '../common/tls/tls-material.js';
import { transportHint } from './tls/transport-hint.js';

/**
 * The CLI's HTTP client for the coordinator's /v1 API. Errors come back as GridlineErrors with
 * the server's code and message, or UNAVAILABLE with the address when nothing answers.
 */
export class CoordinatorClient {
  private readonly fetch: typeof fetch;

  /** `tls`: the CA to trust for an https:// coordinator (null: the system's CAs). */
  constructor(readonly baseUrl: string, private readonly apiKey: string | null = null, private readonly timeoutMs = 15_000, tls: TlsClientMaterial | null = null) {
    this.fetch = tlsFetch(tls);
  }

  /** The `Authorization` value this client sends (null: none). */
  get authorization(): string | null {
    return this.apiKey === null ? null : `Bearer ${this.apiKey}`;
  }

  async request<T>(method: string, path: string, body?: { text: string; contentType: string }): Promise<T> {
    let res: Response;
    try {
      res = await this.fetch(new URL(path, this.baseUrl), {
        method,
        headers: {
          ...(body ? { 'content-type': body.contentType } : {}),
          ...(this.apiKey === null ? {} : { authorization: `Bearer ${this.apiKey}` }),
        },
        body: body?.text,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new GridlineError('UNAVAILABLE', `cannot reach the coordinator at ${this.baseUrl} (${cause})${transportHint(this.baseUrl, cause) ?? ': start one with `gridline up` or set GRIDLINE_COORDINATOR'}`, { retryable: true, cause: err });
    }
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      throw new GridlineError('UNAVAILABLE', `the coordinator at ${this.baseUrl} answered ${res.status} with a non-JSON body`);
    }
    if (!res.ok) {
      const e = (json as { error?: { code?: ErrorCode; message?: string; details?: unknown } } | null)?.error;
      throw new GridlineError(e?.code ?? 'INTERNAL', e?.message ?? `HTTP ${res.status}`, { details: e?.details });
    }
    return json as T;
  }
}

/** GRIDLINE_COORDINATOR, else the local default: https:// when the CLI was given a CA to trust. */
export function defaultCoordinatorUrl(secure = false): string {
  return process.env.GRIDLINE_COORDINATOR ?? `${secure ? 'https' : 'http'}://127.0.0.1:7070`;
}

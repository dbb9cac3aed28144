import { GridlineError } from '../common/errors.js';
import type { ErrorCode } from '../common/error-codes.js';

/**
 * The CLI's HTTP client for the coordinator's /v1 API. Errors come back as GridlineErrors with
 * the server's code and message, or UNAVAILABLE with the address when nothing answers.
 */
export class CoordinatorClient {
  constructor(readonly baseUrl: string, private readonly timeoutMs = 15_000) {}

  async request<T>(method: string, path: string, body?: { text: string; contentType: string }): Promise<T> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: body ? { 'content-type': body.contentType } : {},
        body: body?.text,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new GridlineError('UNAVAILABLE', `cannot reach the coordinator at ${this.baseUrl} (${cause}): start one with \`gridline up\` or set GRIDLINE_COORDINATOR`, { retryable: true, cause: err });
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

export function defaultCoordinatorUrl(): string {
  return process.env.GRIDLINE_COORDINATOR ?? 'http://127.0.0.1:7070';
}

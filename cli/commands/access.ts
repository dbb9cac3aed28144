import type { CoordinatorClient } from '../coordinator-client.js';
import { parseDuration } from '../duration.js';
import { table } from './format.js';

interface CredentialView {
  readonly id: string;
  readonly name: string;
  readonly scopes: readonly string[];
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly state: string;
}

const PATHS = { key: '/v1/keys', token: '/v1/join-tokens' } as const;
export type CredentialCommandKind = keyof typeof PATHS;

export interface CreateCredentialOptions {
  readonly name?: string;
  /** Comma-separated scopes (API keys). */
  readonly scope?: string;
  readonly ttl?: string;
}

/**
 * `gridline key create|list|revoke` and `gridline token create|list|revoke`. The secret is
 * printed once, alone on stdout, so `KEY=$(gridline key create ...)` works; the rest goes to stderr.
 */
export async function credentialCommand(client: CoordinatorClient, kind: CredentialCommandKind, action: string, arg: string | undefined, options: CreateCredentialOptions & { json?: boolean }): Promise<number> {
  if (action === 'create') {
    const body: Record<string, unknown> = {};
    if (options.name !== undefined) body.name = options.name;
    if (options.scope !== undefined) body.scopes = options.scope.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (options.ttl !== undefined) body.ttlSeconds = parseDuration('--ttl', options.ttl);
    const created = await client.request<CredentialView & { token: string }>('POST', PATHS[kind], { text: JSON.stringify(body), contentType: 'application/json' });
    process.stdout.write(`${created.token}\n`);
    const scopes = kind === 'key' ? ` with scopes ${created.scopes.join(', ')}` : '';
    process.stderr.write(`created ${kind === 'key' ? 'API key' : 'join token'} ${created.id} (${created.name})${scopes}, ${created.expiresAt === null ? 'never expires' : `expires ${created.expiresAt}`}; it is shown only this once\n`);
    return 0;
  }
  if (action === 'revoke') {
    if (arg === undefined) {
      process.stderr.write(`usage: gridline ${kind} revoke ID (see \`gridline ${kind} list\`)\n`);
      return 2;
    }
    const revoked = await client.request<CredentialView>('DELETE', `${PATHS[kind]}/${encodeURIComponent(arg)}`);
    process.stdout.write(`${kind === 'key' ? 'API key' : 'join token'} ${revoked.id} (${revoked.name}) revoked\n`);
    return 0;
  }
  if (action === 'list') {
    const { items } = await client.request<{ items: CredentialView[] }>('GET', PATHS[kind]);
    if (options.json === true) {
      process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
      return 0;
    }
    const headers = kind === 'key' ? ['ID', 'NAME', 'SCOPES', 'STATE', 'CREATED', 'EXPIRES'] : ['ID', 'NAME', 'STATE', 'CREATED', 'EXPIRES'];
    const rows = items.map((c) => [c.id, c.name, ...(kind === 'key' ? [c.scopes.join(',')] : []), c.state, c.createdAt, c.expiresAt ?? 'never']);
    process.stdout.write(`${table(headers, rows)}\n`);
    return 0;
  }
  process.stderr.write(`unknown action "${action}": use create, list or revoke\n`);
  return 2;
}

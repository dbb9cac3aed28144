/**
 * What an API key may do. `admin` implies every other scope (keys, join tokens, node drain and
 * revocation); `gateway` lets an inference gateway follow the routes and the key table it checks
 * callers against.
 */
export const SCOPES = ['submit', 'read', 'infer', 'admin', 'gateway'] as const;

export type Scope = (typeof SCOPES)[number];

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

export function hasScope(granted: readonly Scope[], needed: Scope): boolean {
  return granted.includes(needed) || granted.includes('admin');
}

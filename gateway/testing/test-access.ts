import { STATIC_KEY_ID, type KeyEntry } from '../../common/auth/key-table.js';
import type { Scope } from '../../common/auth/scopes.js';
import { hashToken, newToken } from '../../common/auth/secret-token.js';
import { GatewayAccess } from '../gateway-access.js';

export const TEST_SERVICE_TOKEN = 'gls_unit-test-service-token';

export interface TestKeys {
  readonly access: GatewayAccess;
  /** Static admin key: every scope. */
  readonly admin: string;
  readonly infer: string;
  readonly read: string;
  readonly expired: string;
}

/** A GatewayAccess loaded as the coordinator's watch would load it, with one key per case. Test helper only. */
export function testAccess(adminKey = 'gateway-unit-test-admin-key-0123456789'): TestKeys {
  const make = (name: string, scopes: Scope[], expiresAt: number | null): { token: string; entry: KeyEntry } => {
    const t = newToken('glk');
    return { token: t.token, entry: { id: t.id, name, scopes, hash: t.hash, expiresAt } };
  };
  const infer = make('infer only', ['infer'], null);
  const read = make('read only', ['read'], null);
  const expired = make('expired', ['infer'], Date.now() - 1_000);
  const access = new GatewayAccess();
  access.apply([
    { id: STATIC_KEY_ID, name: 'static admin key', scopes: ['admin'], hash: hashToken(adminKey), expiresAt: null },
    infer.entry, read.entry, expired.entry,
  ], TEST_SERVICE_TOKEN);
  return { access, admin: adminKey, infer: infer.token, read: read.token, expired: expired.token };
}

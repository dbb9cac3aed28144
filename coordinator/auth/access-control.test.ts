import { describe, expect, it } from 'vitest';
import { AccessControl, type AccessSettings } from './access-control.js';
import { memoryAccessStore } from './access-store.js';
import { RecordSeal } from './record-seal.js';
import { newToken } from '../../common/auth/secret-token.js';

function control(now = { t: Date.parse('2026-11-27T12:00:00Z') }, settings: AccessSettings = { staticAdminKey: null, staticJoinToken: null }) {
  const store = memoryAccessStore();
  return { store, now, access: new AccessControl(store, settings, () => now.t) };
}

describe('AccessControl', () => {
  it('creates API keys with scopes and expiry, lists them without hashes, and revokes them', async () => {
    const { access, store, now } = control();
    await access.load();
    let changes = 0;
    access.subscribe(() => changes++);
    const { credential, token } = await access.create('api-key', { name: 'ci', scopes: ['submit', 'read', 'submit'], ttlMs: 3_600_000 });
    expect(credential).toMatchObject({ name: 'ci', scopes: ['submit', 'read'], state: 'active', expiresAt: '2026-11-27T13:00:00.000Z' });
    expect(JSON.stringify(access.list('api-key'))).not.toContain('hash');
    expect(JSON.stringify(await store.list('api-key'))).not.toContain(token);
    expect(access.verify(`Bearer ${token}`, 'submit').keyId).toBe(credential.id);
    expect(() => access.verify(`Bearer ${token}`, 'infer')).toThrow(/lacks the "infer" scope/);
    now.t += 3_600_000;
    expect(() => access.verify(`Bearer ${token}`, 'submit')).toThrow(/expired/);
    expect(access.list('api-key')[0]?.state).toBe('expired');
    await access.revoke('api-key', credential.id);
    expect(access.list('api-key')[0]?.state).toBe('revoked');
    expect(changes).toBe(2);
    await expect(access.revoke('api-key', 'nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses unknown scopes, no scopes, bad names and bad ttls', async () => {
    const { access } = control();
    await access.load();
    await expect(access.create('api-key', { name: 'x', scopes: ['infer', 'root'], ttlMs: null })).rejects.toThrow(/unknown scope "root": choose from submit, read, infer, admin, gateway/);
    await expect(access.create('api-key', { name: 'x', scopes: [], ttlMs: null })).rejects.toThrow(/at least one scope/);
    await expect(access.create('api-key', { name: '<script>', scopes: ['read'], ttlMs: null })).rejects.toThrow(/name/);
    await expect(access.create('join-token', { name: 'x', ttlMs: -5 })).rejects.toThrow(/ttl/);
    await expect(access.create('api-key', { name: 'x', scopes: ['read'], ttlMs: 8e15 })).rejects.toThrow(/at most ten years/);
  });

  it('checks join tokens: valid, expired, revoked, unknown, and a static one', async () => {
    const { access, now } = control(undefined, { staticAdminKey: null, staticJoinToken: 'a-static-join-token-0123456789abcdef' });
    await access.load();
    const a = await access.create('join-token', { name: 'rack 1', ttlMs: 60_000 });
    const b = await access.create('join-token', { name: 'rack 2', ttlMs: null });
    expect(() => access.checkJoinToken(a.token)).not.toThrow();
    expect(() => access.checkJoinToken('a-static-join-token-0123456789abcdef')).not.toThrow();
    expect(() => access.checkJoinToken('')).toThrow(/no join token/);
    expect(() => access.checkJoinToken('glj_000000000000_xyz')).toThrow(/invalid join token/);
    expect(() => access.checkJoinToken(a.token.slice(0, -1) + (a.token.endsWith('A') ? 'B' : 'A'))).toThrow(/invalid join token/);
    now.t += 60_000;
    expect(() => access.checkJoinToken(a.token)).toThrow(new RegExp(`join token ${a.credential.id} expired`));
    await access.revoke('join-token', b.credential.id);
    expect(() => access.checkJoinToken(b.token)).toThrow(/was revoked/);
    // Join tokens are no API keys.
    expect(() => access.verify(`Bearer ${b.token}`, 'read')).toThrow(/not valid/);
  });

  it('keeps state across a restart (the store is the truth), with one service token', async () => {
    const { access, store } = control(undefined, { staticAdminKey: 'static-admin-key-0123456789abcdef0123', staticJoinToken: null });
    await access.load();
    const key = await access.create('api-key', { name: 'x', scopes: ['infer'], ttlMs: null });
    await access.revokeNode('n1');
    const again = new AccessControl(store, { staticAdminKey: null, staticJoinToken: null });
    await again.load();
    expect(again.verify(`Bearer ${key.token}`, 'infer').keyId).toBe(key.credential.id);
    expect(again.isNodeRevoked('n1')).toBe(true);
    expect(again.serviceToken()).toBe(access.serviceToken());
    expect(again.serviceToken()).toMatch(/^gls_/);
    // The static admin key is configuration, not state: gone when no longer configured.
    expect(access.verify('Bearer static-admin-key-0123456789abcdef0123', 'admin').keyId).toBe('static');
    expect(() => again.verify('Bearer static-admin-key-0123456789abcdef0123', 'admin')).toThrow(/not valid/);
  });

  it('refuses a static secret too short to be one', () => {
    expect(() => new AccessControl(memoryAccessStore(), { staticAdminKey: 'short', staticJoinToken: null })).toThrow(/at least 32 characters/);
  });

  it('ignores credentials in the store that were not sealed with the coordinator\'s secret', async () => {
    const store = memoryAccessStore();
    const settings: AccessSettings = { staticAdminKey: null, staticJoinToken: null };
    const secret = 'a-coordinator-secret-0123456789abcdef';
    const access = new AccessControl(store, settings, Date.now, new RecordSeal(secret));
    await access.load();
    const genuine = await access.create('api-key', { name: 'ci', scopes: ['read'], ttlMs: null });
    await access.revokeNode('bad-node');
    // Someone with Redis access (any worker) plants an admin key, upgrades a key, un-expires a
    // join token, revokes a node of their choosing.
    const forged = newToken('glk');
    await store.put('api-key', { id: forged.id, name: 'x', scopes: ['admin'], hash: forged.hash, createdAt: new Date().toISOString(), expiresAt: null, revokedAt: null });
    const upgraded = (await store.list('api-key')).find((c) => c.id === genuine.credential.id)!;
    await store.put('api-key', { ...upgraded, id: 'upgraded', scopes: ['admin'] });
    await store.revokeNode('victim', 'f'.repeat(64));
    const reloaded = new AccessControl(store, settings, Date.now, new RecordSeal(secret));
    expect((await reloaded.load()).ignored).toEqual([`api-key ${forged.id}`, 'api-key upgraded', 'revoked-node victim']);
    expect(() => reloaded.verify(`Bearer ${forged.token}`, 'admin')).toThrow(/not valid/);
    expect(reloaded.verify(`Bearer ${genuine.token}`, 'read').keyId).toBe(genuine.credential.id);
    expect(reloaded.isNodeRevoked('bad-node')).toBe(true);
    expect(reloaded.isNodeRevoked('victim')).toBe(false);
    // Another secret (or none on the writing side) seals nothing this coordinator accepts.
    const other = new AccessControl(store, settings, Date.now, new RecordSeal('another-secret-0123456789abcdef0123'));
    expect((await other.load()).ignored).toHaveLength(5);
  });

  it('drops keys and tokens that ended over a week ago when it loads', async () => {
    const { access, store, now } = control();
    await access.load();
    const old = await access.create('join-token', { name: 'startup', ttlMs: 24 * 3600 * 1000 });
    const gone = await access.create('api-key', { name: 'gone', scopes: ['read'], ttlMs: null });
    await access.revoke('api-key', gone.credential.id);
    const fresh = await access.create('join-token', { name: 'fresh', ttlMs: 30 * 24 * 3600 * 1000 });
    now.t += 9 * 24 * 3600 * 1000;
    const again = new AccessControl(store, { staticAdminKey: null, staticJoinToken: null }, () => now.t);
    await again.load();
    expect(again.list('join-token').map((c) => c.id)).toEqual([fresh.credential.id]);
    expect(again.list('api-key')).toEqual([]);
    expect(() => again.checkJoinToken(old.token)).toThrow(/invalid join token/);
  });
});


import { describe, expect, it } from 'vitest';
import { KeyTable, STATIC_KEY_ID } from './key-table.js';
import { bearerToken, hashToken, newToken, tokenId, tokenMatches } from './secret-token.js';

describe('secret tokens', () => {
  it('carry their id, are stored only as a hash, and match in constant time', () => {
    const t = newToken('glk');
    expect(t.token).toMatch(/^glk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(tokenId('glk', t.token)).toBe(t.id);
    expect(tokenId('glj', t.token)).toBeNull();
    expect(t.hash).toBe(hashToken(t.token));
    expect(t.hash).not.toContain(t.token.slice(17));
    expect(tokenMatches(t.token, t.hash)).toBe(true);
    expect(tokenMatches(`${t.token}x`, t.hash)).toBe(false);
    expect(tokenMatches(t.token, 'not-hex')).toBe(false);
  });

  it('reads only well-formed bearer headers', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer   abc ')).toBe('abc');
    for (const bad of [undefined, null, '', 'Basic abc', 'Bearer', 'Bearer a b', 'abc']) expect(bearerToken(bad)).toBeNull();
  });
});

describe('KeyTable', () => {
  const infer = newToken('glk');
  const read = newToken('glk');
  const old = newToken('glk');
  const table = new KeyTable([
    { id: STATIC_KEY_ID, name: 'static', scopes: ['admin'], hash: hashToken('a-static-admin-key-xyz'), expiresAt: null },
    { id: infer.id, name: 'app', scopes: ['infer'], hash: infer.hash, expiresAt: null },
    { id: read.id, name: 'dash', scopes: ['read'], hash: read.hash, expiresAt: Date.now() + 60_000 },
    { id: old.id, name: 'old', scopes: ['infer'], hash: old.hash, expiresAt: Date.now() - 1 },
  ]);
  const header = (token: string): string => `Bearer ${token}`;

  it('accepts a key for its scopes; admin implies every scope', () => {
    expect(table.verify(header(infer.token), 'infer')).toMatchObject({ keyId: infer.id, name: 'app' });
    expect(table.verify(header(read.token), 'read').keyId).toBe(read.id);
    for (const scope of ['submit', 'read', 'infer', 'admin', 'gateway'] as const) {
      expect(table.verify(header('a-static-admin-key-xyz'), scope).keyId).toBe(STATIC_KEY_ID);
    }
  });

  it('says UNAUTHENTICATED for no key, a malformed, unknown, forged or expired one, and never echoes it', () => {
    const forged = `glk_${infer.id}_${'A'.repeat(43)}`;
    for (const [value, message] of [
      [undefined, /needs an API key/], ['Token abc', /not "Bearer <api key>"/], [header('nope'), /not valid/],
      [header(forged), /not valid/], [header(old.token), /expired at/],
    ] as const) {
      let err: unknown;
      try {
        table.verify(value, 'infer');
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringMatching(message) as string });
      expect((err as Error).message).not.toContain(forged.slice(17));
    }
  });

  it('says PERMISSION_DENIED for a good key without the scope, naming both', () => {
    expect(() => table.verify(header(infer.token), 'submit')).toThrow(expect.objectContaining({ code: 'PERMISSION_DENIED', message: expect.stringMatching(/lacks the "submit" scope \(it has: infer\)/) as string }));
  });

  it('forgets keys that leave the table (revocation)', () => {
    const t = new KeyTable([{ id: infer.id, name: 'app', scopes: ['infer'], hash: infer.hash, expiresAt: null }]);
    expect(t.verify(header(infer.token), 'infer').keyId).toBe(infer.id);
    t.replace([]);
    expect(() => t.verify(header(infer.token), 'infer')).toThrow(/not valid/);
  });
});

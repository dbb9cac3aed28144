import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Secrets handed out by the coordinator (API keys, join tokens): `<kind>_<id>_<secret>`. The id
 * finds the stored entry without a scan; only the SHA-256 of the whole token is stored, so a
 * leaked store reveals no usable token. 32 random bytes make brute force pointless, which is why
 * a plain hash (not a slow KDF) is the right tool here.
 */
export type TokenKind = 'glk' | 'glj';

export interface NewToken {
  readonly id: string;
  readonly token: string;
  readonly hash: string;
}

export function newToken(kind: TokenKind): NewToken {
  const id = randomBytes(6).toString('hex');
  const token = `${kind}_${id}_${randomBytes(32).toString('base64url')}`;
  return { id, token, hash: hashToken(token) };
}

const TOKEN_SHAPE: Readonly<Record<TokenKind, RegExp>> = {
  glk: /^glk_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$/,
  glj: /^glj_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$/,
};

/** The id of a well-formed token of this kind, or null. (On every request: no regex built here.) */
export function tokenId(kind: TokenKind, token: string): string | null {
  return TOKEN_SHAPE[kind].exec(token)?.[1] ?? null;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Constant-time: compares hashes of equal length whatever the input. */
export function tokenMatches(token: string, expectedHash: string): boolean {
  return hashMatches(hashToken(token), expectedHash);
}

/** Constant-time comparison of two hex hashes (false when they differ in length). */
export function hashMatches(actualHash: string, expectedHash: string): boolean {
  const actual = Buffer.from(actualHash, 'hex');
  const expected = Buffer.from(expectedHash, 'hex');
  return expected.length === actual.length && timingSafeEqual(actual, expected);
}

/** The token of an `Authorization: Bearer <token>` value, or null. */
export function bearerToken(header: string | undefined | null): string | null {
  if (header === undefined || header === null) return null;
  const match = /^Bearer[ \t]+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

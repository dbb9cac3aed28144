import express, { type Router } from 'express';
import { GridlineError } from '../../common/errors.js';
import type { AccessControl } from '../auth/access-control.js';
import type { CredentialKind } from '../auth/access-store.js';
import type { ScopeCheck } from './require-scope.js';

interface CreateBody {
  name?: unknown;
  scopes?: unknown;
  /** Seconds; absent or null: API keys never expire, join tokens live 24 h. */
  ttlSeconds?: unknown;
}

const DEFAULT_JOIN_TOKEN_TTL_S = 24 * 3600;

/**
 * /v1/keys and /v1/join-tokens (admin scope): list, create (the secret is in the answer once and
 * never again), revoke. Revoked and expired entries stay listed with their state.
 */
export function accessRoutes(access: AccessControl, admin: ScopeCheck): Router {
  const router = express.Router();
  const json = express.json({ limit: 4096 });
  for (const [path, kind] of [['/keys', 'api-key'], ['/join-tokens', 'join-token']] as const) {
    router.get(path, admin, (_req, res) => {
      res.json({ items: access.list(kind) });
    });
    router.post(path, admin, json, async (req, res) => {
      const body = (req.body ?? {}) as CreateBody;
      const created = await access.create(kind, {
        name: typeof body.name === 'string' ? body.name : defaultName(kind),
        scopes: scopesOf(body.scopes),
        ttlMs: ttlOf(kind, body.ttlSeconds),
      });
      res.status(201).json({ ...created.credential, token: created.token });
    });
    router.delete(`${path}/:id`, admin, async (req, res) => {
      res.json(await access.revoke(kind, String(req.params.id)));
    });
  }
  return router;
}

function defaultName(kind: CredentialKind): string {
  return kind === 'api-key' ? 'api key' : 'join token';
}

function scopesOf(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((s) => typeof s === 'string')) {
    throw new GridlineError('INVALID_ARGUMENT', 'scopes must be a list of strings');
  }
  return value as string[];
}

function ttlOf(kind: CredentialKind, value: unknown): number | null {
  if (value === undefined) return kind === 'join-token' ? DEFAULT_JOIN_TOKEN_TTL_S * 1000 : null;
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new GridlineError('INVALID_ARGUMENT', `ttlSeconds must be a positive number or null (never), got ${JSON.stringify(value)}`);
  }
  return Math.round(value * 1000);
}

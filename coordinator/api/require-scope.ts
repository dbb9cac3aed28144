import type { NextFunction, Request, Response } from 'express';
import type { Caller } from '../../common/auth/key-table.js';
import type { Scope } from '../../common/auth/scopes.js';

/** Anything that checks an `Authorization` header for a scope (AccessControl, a KeyTable). */
export interface BearerVerifier {
  verify(authorization: string | undefined, scope: Scope): Caller;
}

/** Generic in the route's params, so express still infers them from the path beside it. */
export type ScopeCheck = <P>(req: Request<P>, res: Response, next: NextFunction) => void;

/**
 * Like requireScope for the first of `scopes` the key has; the error names the first scope.
 * (The routes watch is for readers and for gateways.)
 */
export function requireAnyScope(verifier: BearerVerifier, scopes: readonly [Scope, ...Scope[]]): ScopeCheck {
  return (req, res, next) => {
    let first: unknown = null;
    for (const scope of scopes) {
      try {
        res.locals.caller = verifier.verify(req.headers.authorization, scope);
        next();
        return;
      } catch (err) {
        first ??= err;
      }
    }
    throw first;
  };
}

/** Refuses the request (UNAUTHENTICATED / PERMISSION_DENIED via the error handler) unless the caller's key has `scope`. */
export function requireScope(verifier: BearerVerifier, scope: Scope): ScopeCheck {
  return (req, res, next) => {
    res.locals.caller = verifier.verify(req.headers.authorization, scope);
    next();
  };
}

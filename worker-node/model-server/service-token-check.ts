import { GridlineError } from '../../common/errors.js';
import { bearerToken, hashToken, tokenMatches } from '../../common/auth/secret-token.js';

/**
 * The node's model server takes calls only from the cluster's gateways: they present the service
 * token the coordinator hands to both (to nodes on registering, to gateways on their watch).
 * Until the node has registered there is no token, and calls are refused as UNAVAILABLE.
 */
export class ServiceTokenCheck {
  private hash: string | null = null;
  /** The token before the last change, still taken until `previousUntil`. */
  private previous: string | null = null;
  private previousUntil = 0;

  /**
   * @param graceMs how long the token before a change is still taken: gateways learn the new one
   * over their watch at about the same moment, and requests already on their way must not fail.
   */
  constructor(private readonly graceMs = 10_000, private readonly now: () => number = Date.now) {}

  set(token: string): void {
    const next = token === '' ? null : hashToken(token);
    if (next === this.hash) return;
    this.previous = this.hash;
    this.previousUntil = this.now() + this.graceMs;
    this.hash = next;
  }

  /** Throws UNAUTHENTICATED (or UNAVAILABLE before registration) unless the header carries the token. */
  check(authorization: string | undefined): void {
    if (this.hash === null) throw new GridlineError('UNAVAILABLE', 'this node has not registered with a coordinator yet', { retryable: true });
    const token = bearerToken(authorization);
    const previous = this.previous !== null && this.now() < this.previousUntil ? this.previous : null;
    if (token === null || !(tokenMatches(token, this.hash) || (previous !== null && tokenMatches(token, previous)))) {
      throw new GridlineError('UNAUTHENTICATED', 'this model server takes calls from the cluster\'s gateways only (the service token is missing or wrong)');
    }
  }
}

import { GridlineError } from '../../common/errors.js';
import { bearerToken, hashToken, tokenMatches } from '../../common/auth/secret-token.js';

/**
 * The node's model server takes calls only from the cluster's gateways: they present the service
 * token the coordinator hands to both (to nodes on registering, to gateways on their watch).
 * Until the node has registered there is no token, and calls are refused as UNAVAILABLE.
 */
export class ServiceTokenCheck {
  private hash: string | null = null;

  set(token: string): void {
    this.hash = token === '' ? null : hashToken(token);
  }

  /** Throws UNAUTHENTICATED (or UNAVAILABLE before registration) unless the header carries the token. */
  check(authorization: string | undefined): void {
    if (this.hash === null) throw new GridlineError('UNAVAILABLE', 'this node has not registered with a coordinator yet', { retryable: true });
    const token = bearerToken(authorization);
    if (token === null || !tokenMatches(token, this.hash)) {
      throw new GridlineError('UNAUTHENTICATED', 'this model server takes calls from the cluster\'s gateways only (the service token is missing or wrong)');
    }
  }
}

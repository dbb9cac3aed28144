import { createHmac } from 'node:crypto';
import { hashMatches } from '../../common/auth/secret-token.js';

/**
 * Integrity for the credentials the coordinator keeps in Redis. Workers reach the same Redis (for
 * the stage queues), so without a seal a worker could write itself an admin key, a join token or
 * another node's credential. Each record carries an HMAC under a secret that only the coordinator
 * holds (a file or GRIDLINE_COORDINATOR_SECRET, never Redis); a record that fails it is ignored.
 * Without a secret (in-process tests) records are written and read unsealed.
 */
export class RecordSeal {
  private readonly key: Buffer | null;

  constructor(secret: string | null) {
    this.key = secret === null ? null : Buffer.from(secret, 'utf8');
  }

  get enabled(): boolean {
    return this.key !== null;
  }

  /** The MAC of `value` as the record `kind`/`id` ('' when sealing is off). */
  mac(kind: string, id: string, value: string): string {
    if (this.key === null) return '';
    return createHmac('sha256', this.key).update(`${kind}\n${id}\n${value}`).digest('hex');
  }

  /** Whether `mac` is the MAC of `value` (always true when sealing is off). */
  verify(kind: string, id: string, value: string, mac: string | undefined): boolean {
    if (this.key === null) return true;
    return hashMatches(typeof mac === 'string' ? mac : '', this.mac(kind, id, value));
  }
}

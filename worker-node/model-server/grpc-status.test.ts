import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode } from '../../common/error-codes.js';
import { GridlineError } from '../../common/errors.js';
import { invalidField } from '../../common/oip/oip-errors.js';
import { QUEUE_FULL } from '../../services/model-serving/batcher/dynamic-batcher.js';
import { outcomeOf, toGrpcError } from './grpc-status.js';

describe('toGrpcError', () => {
  it('maps every code as common/error-codes.ts says', () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      const err = toGrpcError(new GridlineError(code, 'boom'));
      expect(err.code, code).toBe(ERROR_CODES[code].grpc);
      expect(err.details).toBe('boom');
      expect(err.metadata?.get('gridline-code')).toEqual([code]);
    }
  });

  it('answers a full queue with RESOURCE_EXHAUSTED, retryable', () => {
    const full = new GridlineError('RESOURCE_EXHAUSTED', 'm: queue full', { retryable: true, details: { reason: QUEUE_FULL } });
    const err = toGrpcError(full);
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(err.metadata?.get('gridline-code')).toEqual([QUEUE_FULL]);
    expect(err.metadata?.get('gridline-retryable')).toEqual(['true']);
    expect(outcomeOf(full)).toBe('queue_full');
    expect(toGrpcError(new GridlineError('UNAVAILABLE', 'down')).code).toBe(status.UNAVAILABLE);
  });

  it('names a bad field in the trailers, and treats anything else thrown as INTERNAL', () => {
    expect(toGrpcError(invalidField('inputs[0].shape', 'wrong')).metadata?.get('gridline-field')).toEqual(['inputs[0].shape']);
    expect(toGrpcError(invalidField('inputs["\u00e9"]', 'wrong')).metadata?.get('gridline-field')).toEqual([]);
    const err = toGrpcError(new TypeError('oops'));
    expect(err.code).toBe(status.INTERNAL);
    expect(err.details).toBe('oops');
    expect(outcomeOf(new TypeError('oops'))).toBe('internal');
    expect(outcomeOf(invalidField('x', 'y'))).toBe('invalid_argument');
  });
});

import type { InferParameter } from '../../proto/generated/inference/InferParameter.js';
import type { InferParameters, InferParameterValue } from './infer-messages.js';
import { describeReceived, invalidField, isRecord, keyPath } from './oip-errors.js';

const CHOICES = ['boolParam', 'int64Param', 'stringParam', 'doubleParam', 'uint64Param'] as const;

const PROTO_NAMES: Readonly<Record<(typeof CHOICES)[number], string>> = {
  boolParam: 'bool_param', int64Param: 'int64_param', stringParam: 'string_param',
  doubleParam: 'double_param', uint64Param: 'uint64_param',
};

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Reads a protobuf `map<string, InferParameter>`. The oneof's `parameterChoice` (loader option
 * `oneofs`) says which field is set; without it, the one field present does. int64 and uint64
 * values arrive as decimal strings and become numbers while safe, bigints beyond.
 */
export function readGrpcParameters(value: unknown, field: string): Record<string, InferParameterValue> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw invalidField(field, `must be a map of InferParameter, got ${describeReceived(value)}`);
  const entries: [string, InferParameterValue][] = [];
  for (const [key, param] of Object.entries(value)) {
    const at = keyPath(field, key);
    if (!isRecord(param)) throw invalidField(at, `must be an InferParameter, got ${describeReceived(param)}`);
    const choice = typeof param['parameterChoice'] === 'string'
      ? CHOICES.find((c) => c === param['parameterChoice'])
      : CHOICES.find((c) => param[c] !== undefined && param[c] !== null);
    if (choice === undefined) throw invalidField(at, 'holds no value (set one of bool_param, int64_param, string_param, double_param, uint64_param)');
    entries.push([key, readChoice(param[choice], choice, `${at}.${PROTO_NAMES[choice]}`)]);
  }
  return Object.fromEntries(entries) as Record<string, InferParameterValue>;
}

function readChoice(v: unknown, choice: (typeof CHOICES)[number], at: string): InferParameterValue {
  switch (choice) {
    case 'boolParam':
      if (typeof v === 'boolean') return v;
      break;
    case 'stringParam':
      if (typeof v === 'string') return v;
      break;
    case 'doubleParam':
      if (typeof v === 'number') return v;
      break;
    default: {
      const n = typeof v === 'bigint' ? v
        : typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v)
        : typeof v === 'string' && /^-?\d{1,20}$/.test(v) ? BigInt(v)
        : undefined;
      const [min, max] = choice === 'int64Param' ? [INT64_MIN, INT64_MAX] : [0n, UINT64_MAX];
      if (n !== undefined && n >= min && n <= max) return n >= -MAX_SAFE && n <= MAX_SAFE ? Number(n) : n;
    }
  }
  throw invalidField(at, `does not fit the field, got ${describeReceived(v)}`);
}

/**
 * Parameters as a protobuf map: safe integers and bigints go as int64_param (uint64_param above
 * the int64 range), other numbers as double_param.
 */
export function grpcParametersOf(parameters: InferParameters | undefined, field: string): Record<string, InferParameter> {
  const out: [string, InferParameter][] = [];
  for (const [key, v] of Object.entries(parameters ?? {})) {
    if (typeof v === 'boolean') out.push([key, { boolParam: v }]);
    else if (typeof v === 'string') out.push([key, { stringParam: v }]);
    else if (typeof v === 'number') out.push([key, Number.isSafeInteger(v) ? { int64Param: String(v) } : { doubleParam: v }]);
    else if (v >= INT64_MIN && v <= INT64_MAX) out.push([key, { int64Param: String(v) }]);
    else if (v > INT64_MAX && v <= UINT64_MAX) out.push([key, { uint64Param: String(v) }]);
    else throw invalidField(keyPath(field, key), `${String(v)} does not fit int64 or uint64`);
  }
  return Object.fromEntries(out);
}

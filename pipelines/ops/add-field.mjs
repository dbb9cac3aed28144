// A custom op module: sets meta[field] = value on every item and records the size of its `file`
// field in meta.bytes. Use it with
//   - module: { path: ./ops/add-field.mjs, params: { field: tag, value: demo }, reads: [file] }
// on a worker started with --op-module-dir pointing at this folder. See pipelines/README.md.

/**
 * @param {Readonly<Record<string, unknown>>} params the entry's `params`, as written
 * @param {{ logger: { info(obj: object, msg: string): void }, resolveUri(uri: string): string }} ctx
 */
export function createOp(params, ctx) {
  const field = params.field ?? 'tag';
  if (typeof field !== 'string' || field === '') throw new Error('add-field: params.field must be a non-empty string');
  if (!('value' in params)) throw new Error('add-field: params.value is required');
  ctx.logger.info({ field }, 'add-field ready');
  return {
    async apply(item) {
      item.meta[field] = params.value;
      if (item.has('file')) item.meta.bytes = (await item.bytes('file')).length;
    },
  };
}

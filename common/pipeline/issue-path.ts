/** Where an issue sits in the document: object keys and list indexes, outermost first. */
export type IssuePath = readonly (string | number)[];

// Op names (`image.resize`) and tensor names (`sigmoid_0.tmp_0`) read better unquoted.
const PLAIN_KEY = /^[\w.-]+$/;

/** `['spec', 'stages', 1, 'ops', 0]` -> `spec.stages[1].ops[0]`. */
export function formatIssuePath(path: IssuePath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (!PLAIN_KEY.test(segment)) text += `[${JSON.stringify(segment)}]`;
    else text += text === '' ? segment : `.${segment}`;
  }
  return text;
}

import { validatePipeline } from './common/pipeline/parse-pipeline.js';
for (const t of ['apiVersion: gridline/v1\nkind: Pipeline\n metadata: x\n', 'spec:\n  source: { kind: files, path: ./data\n  stages: []\n  sink: {}\n', 'a: [1, 2\nb: 3\n', 'a:\n  - b\n c: 1\n', 'a: "unterminated\nb: 1\n', 'a: 1\na: 2\n', 'a: b: c\n', "a:\n\t- x\n"]) {
  const r = validatePipeline(t);
  console.log(JSON.stringify(t), r.ok ? 'ok' : r.issues.map(i => `${i.line}:${i.column} ${i.message}`));
}

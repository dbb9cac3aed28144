// proto-loader-gen-types writes extensionless relative imports; ESM (NodeNext) needs `.js`.
import { readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const file = join(dir, name);
    if (statSync(file).isDirectory()) walk(file);
    else if (file.endsWith('.ts')) {
      const text = readFileSync(file, 'utf8');
      const fixed = text.replace(/from '(\.{1,2}\/[^']+?)(?<!\.js)'/g, "from '$1.js'");
      if (fixed !== text) writeFileSync(file, fixed);
    }
  }
}
walk(process.argv[2] ?? 'proto/generated');

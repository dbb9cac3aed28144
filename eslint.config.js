// Lint rules that guard the architecture: no import cycles, no floating promises, named exports.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

export default tseslint.config(
  { ignores: ['node_modules/**', 'proto/generated/**', 'coverage/**', '.gridline/**', 'out/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    // The TypeScript resolver maps `./x.js` imports to `x.ts`, so no-cycle sees the real graph.
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/extensions': ['.ts', '.js', '.mjs'],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
      // The dependency rule of docs/ARCHITECTURE.md: cli -> coordinator | worker-node -> services -> common -> proto.
      'import-x/no-restricted-paths': ['error', {
        zones: [
          { target: './common', from: ['./coordinator', './worker-node', './services', './cli', './bench', './test'], message: 'common/ holds contracts without I/O and imports no component.' },
          { target: './proto', from: ['./common', './coordinator', './worker-node', './services', './cli'], message: 'proto/ is the bottom layer.' },
          { target: './coordinator', from: ['./worker-node', './services', './cli', './bench', './test'], message: 'The coordinator meets workers only through proto/ and common/.' },
          { target: './services', from: ['./coordinator', './worker-node', './cli', './bench', './test'], message: 'Stage services know nothing of the node agent or the control plane.' },
          { target: './worker-node', from: ['./coordinator', './cli', './bench', './test'], message: 'The worker meets the coordinator only through proto/.' },
          { target: './cli', from: ['./bench', './test'], message: 'Nothing imports bench/ or test/.' },
          { target: './gateway', from: ['./coordinator', './worker-node', './services', './cli', './bench', './test', './pipelines', './scripts'], message: 'The gateway imports only common/ and proto/: it meets the coordinator and workers over the wire.' },
          { target: ['./common', './proto', './coordinator', './worker-node', './services'], from: './gateway', message: 'Only cli/, test/ and bench/ import the gateway.' },
        ],
      }],
      'import-x/no-default-export': 'error',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    files: ['*.config.ts', 'vitest.config.ts'],
    rules: { 'import-x/no-default-export': 'off' },
  },
);

// @ts-check
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      '.node24/**',
      'bin/**',
      'test-results/**',
      // Plain JavaScript run by the Docker image's runtime stage (no TypeScript there).
      'scripts/prune-runtime.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
      'import-x/no-duplicates': 'error',
      'import-x/order': [
        'error',
        {
          groups: ['builtin', 'external', 'internal', 'parent', 'sibling'],
          'newlines-between': 'never',
          alphabetize: { order: 'asc' },
        },
      ],
    },
  },
  {
    // Layering (docs/architecture.md): each zone may not import the ones listed as `from`.
    files: ['src/**/*.ts'],
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: [
                './src/store',
                './src/sendmux',
                './src/model.ts',
                './src/model',
                './src/errors.ts',
                './src/redis',
              ],
              from: [
                './src/queue',
                './src/worker',
                './src/producers',
                './src/ops',
                './src/cli',
                './src/http',
                './src/sim',
                './src/demo',
              ],
              message: 'stores, the client and the model never import the pipeline or its shells',
            },
            {
              target: ['./src/queue', './src/worker'],
              from: [
                './src/producers',
                './src/ops',
                './src/cli',
                './src/http',
                './src/sim',
                './src/demo',
              ],
              message:
                'the queue and the worker know nothing of producers, shells or the simulator',
            },
            {
              target: './src/producers',
              from: ['./src/ops', './src/cli', './src/http', './src/sim', './src/demo'],
              message: 'producers only make intents and call the queue',
            },
            {
              target: './src/ops',
              from: ['./src/cli', './src/http', './src/sim', './src/demo'],
              message: 'ops are the functions behind the shells, not the shells',
            },
            {
              target: './src/http/status-page/browser',
              from: ['./src'],
              except: ['./http/status-page/browser'],
              message:
                "the status page's browser code is bundled alone (esbuild): it imports only its own files",
            },
            {
              target: './src/sim',
              from: ['./src'],
              except: ['./sim', './model.ts'],
              message:
                'the simulator stands alone (it checks the client, so it must not share its code)',
            },
            {
              target: [
                './src/*.ts',
                './src/config',
                './src/redis',
                './src/store',
                './src/sendmux',
                './src/queue',
                './src/worker',
                './src/producers',
                './src/ops',
                './src/http',
              ],
              from: ['./src/sim', './src/demo', './src/cli'],
              message:
                'only the CLI and the demo load the simulator (the library must not load fastify)',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);

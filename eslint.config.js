// Lint: typescript-eslint recommended rules plus the layering of docs/architecture (core is pure, adapters never
// import each other or apps). A wrong import fails CI.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeIo = ['node:fs', 'node:fs/promises', 'node:net', 'node:dgram', 'node:http', 'node:https', 'node:child_process',
  'node:os', 'node:process', 'node:timers', 'node:timers/promises', 'fs', 'net', 'dgram', 'http', 'child_process', 'os'];
const libs = ['etcd3', 'fastify', 'pino', 'mariadb', 'epics-tca', 'prom-client', 'commander', '@grpc/grpc-js'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.state/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Type-aware rules on the product code: a promise nobody awaits or handles is a silent failure on night shift.
    files: ['src/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [...nodeIo, ...libs].map((name) => ({ name, message: 'src/core is pure: no I/O, no I/O libraries' })),
        patterns: [{ group: ['**/adapters/**', '**/apps/**'], message: 'src/core must not import adapters or apps' }],
      }],
      'no-restricted-globals': ['error', 'process', 'setTimeout', 'setInterval'],
    },
  },
  {
    files: ['src/adapters/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/apps/**'], message: 'adapters must not import apps' },
          { regex: '^\\.\\./(?!\\.\\./)[^/]+/', message: 'an adapter wraps one library: it must not import another adapter' },
        ],
      }],
      'no-restricted-globals': ['error', 'process'],
    },
  },
  {
    files: ['bin/**/*.js', 'eslint.config.js', 'scripts/**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);

// Flat config: typescript-eslint's recommended rules, tuned for CDK code.
import eslint from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: ['node_modules/', 'dist/', 'cdk.out/', 'coverage/', '.venv/', '.ci-node/', '**/*.js', '**/*.d.ts'],
  },
  eslint.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // `_`-prefixed parameters are the convention for deliberately unused ones (CDK callbacks, handler signatures).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // `new Construct(this, 'Id', ...)` for its side effect is how CDK code adds resources; `no-new` stays off.
      'no-new': 'off',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'prefer-const': 'error',
    },
  },
  {
    // Tests build fixtures with throwaway shapes and assert on synthesized JSON.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);

import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/.svelte-kit/**', 'web/build/**', 'bench/results/**', '.data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: true }],
      // Services meet only on the broker: no service imports another.
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@domaeka/gateway', '@domaeka/dispatcher', '@domaeka/api', '@domaeka/runner'], message: 'services never import one another; use @domaeka/broker or @domaeka/core' }] },
      ],
    },
  },
  {
    files: ['test/**', 'bench/**', 'scripts/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // The phone's bridge script and its stand-in run in Rhino (MessengerBot R): ES5 scripts, not modules; their top-level vars are the app's globals.
    files: ['bridge-script/**/*.js'],
    languageOptions: { ecmaVersion: 5, sourceType: 'script', globals: { Event: 'off' } },
    rules: { '@typescript-eslint/no-unused-vars': ['error', { vars: 'local', caughtErrors: 'none' }] },
  },
);

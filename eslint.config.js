// Lint: typescript-eslint's type-checked rules over every TypeScript file the type check covers.
// Formatting is Prettier's (`.prettierrc.json`); the only layout rule here is the hard line width
// that Prettier cannot enforce on long strings and comments.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'coverage/', '.tmp/', 'src/grpc/generated/', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Prettier wraps code at 120 columns but leaves long strings and comments alone.
      'max-len': [
        'error',
        { code: 120, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true },
      ],
      // `async` on a method that implements an async interface keeps a throw a rejection, as callers expect.
      '@typescript-eslint/require-await': 'off',
      // A rejection passes on what it caught; `unknown` is honest about that.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  {
    // vitest's asymmetric matchers (`expect.any`, `expect.objectContaining`) are typed `any`.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
);

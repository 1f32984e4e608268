// `npm run lint`: typescript-eslint's type-checked recommendations over all TypeScript sources.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.lab/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // long functions are a smell to look at, not an error
      'max-lines-per-function': ['warn', { max: 80, skipBlankLines: true, skipComments: true }],
      // `const { secret: _s, ...shown } = r` is how a key is left out of a copy: the rest is what is used
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
  // node:test's test()/describe() return promises that the runner itself awaits
  { files: ['test/**/*.ts'], rules: { '@typescript-eslint/no-floating-promises': 'off' } },
  // test patterns mirror column-aligned tool output (`DRIVER    VOLUME NAME`): ` {4}` would hide the layout they check
  { files: ['test/**/*.ts'], rules: { 'no-regex-spaces': 'off' } },
  // plain JS (bin/, scripts/) is not in the TypeScript project; node's globals are checked by node itself
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  { files: ['**/*.js', '**/*.mjs'], rules: { 'no-undef': 'off' } },
);

// The lint gate `npm test` runs (through `npm run lint`). It lives here, not at the top of the
// repository, because the top level holds only the project's fixed layout; `npm run lint` passes
// it with --config. Formatting is Prettier's job (settings in package.json), so the rules that
// would fight it are turned off by eslint-config-prettier.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
	{ignores: ['dist/**', 'node_modules/**', 'drivers/**', 'devices/**']},
	js.configs.recommended,
	...tseslint.configs.recommended,
	{
		files: ['**/*.{ts,tsx,mjs}'],
		languageOptions: {globals: {...globals.node}},
		plugins: {'react-hooks': reactHooks},
		rules: {
			'react-hooks/rules-of-hooks': 'error',
			'react-hooks/exhaustive-deps': 'error',
			// One way to keep a member private across the code base: TypeScript's `private`.
			'no-restricted-syntax': [
				'error',
				{selector: 'PrivateIdentifier', message: 'Use TypeScript `private`, as the rest of the code does.'},
			],
			'@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_'}],
			'@typescript-eslint/consistent-type-imports': 'error',
			// An empty catch is how the code says "this failure changes nothing" (a kill of a process
			// that is already gone, a best-effort cleanup); other empty blocks are mistakes.
			'no-empty': ['error', {allowEmptyCatch: true}],
			// A timer or listener declared first and assigned once later is read by the cleanup
			// closure declared between the two.
			'prefer-const': ['error', {ignoreReadBeforeAssign: true}],
			eqeqeq: ['error', 'always', {null: 'ignore'}],
		},
	},
	prettier,
);

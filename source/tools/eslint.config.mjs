// The lint gate `npm test` runs (through `npm run lint`). It lives here, not at the top of the
// repository, because the top level holds only the project's fixed layout; `npm run lint` passes
// it with --config. Formatting is Prettier's job (settings in package.json), so the rules that
// would fight it are turned off by eslint-config-prettier.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// The layers, top to bottom: cli -> runner -> expedition -> lab. A folder imports from itself and
// from the layers below it, never from one above; ui (the Ink screen, beside cli) takes only
// runner's types. React and Ink are the screen's: the host side never imports them. The
// typescript-eslint form of no-restricted-imports is used, as it tells `import type` apart (ui's
// imports of runner); the base rule is off for these files so the two never report the same line.
// Group patterns are gitignore globs on the import's specifier, so '**/runner/**' catches
// './runner/x.js', '../runner/x.js' and '../../runner/x.js' alike.
const order = 'layers: cli -> runner -> expedition -> lab';
const folder = name => [`**/${name}`, `**/${name}.js`, `**/${name}/**`];
const never = (said, above) =>
	above.map(upper => ({group: folder(upper), message: `${said}: it never imports ${upper} (${order}).`}));
const uiPackages = (layer, said) => ({
	group: ['react', 'react/**', 'react-*', 'ink', 'ink/**', 'ink-*'],
	message: `${layer} ${said}: React and Ink are the UI's (source/ui); the host side never imports them.`,
});
const layers = (files, patterns) => ({
	files,
	rules: {
		'no-restricted-imports': 'off',
		'@typescript-eslint/no-restricted-imports': ['error', {patterns}],
	},
});

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
	layers(
		['source/lab/**'],
		[...never('lab is the bottom layer', ['runner', 'expedition', 'cli', 'ui']), uiPackages('lab', 'touches the host')],
	),
	layers(
		['source/expedition/**'],
		[
			...never('expedition sits on lab only', ['runner', 'cli', 'ui']),
			uiPackages('expedition', 'is the milestones as data'),
		],
	),
	layers(
		['source/runner/**'],
		[
			...never('runner sits on expedition and lab', ['cli', 'ui']),
			uiPackages('runner', 'is the host side of the screen'),
		],
	),
	layers(['source/cli.ts', 'source/cli/**'], [uiPackages('cli', 'runs on the host (the screen is source/ui)')]),
	layers(
		['source/ui/**'],
		[
			{
				group: folder('runner'),
				allowTypeImports: true,
				message: `ui takes only runner's types: \`import type\`, never its code (${order}; ui beside cli).`,
			},
			...never("ui talks to the lab through runner's API only", ['lab', 'expedition', 'cli']),
		],
	),
	prettier,
);

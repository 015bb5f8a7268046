// The layering of src/ as ESLint config blocks (eslint.config.js uses them; test/unit/lint/layering.test.ts
// proves that bad imports fail). Relative imports are checked on resolved paths, so no spelling of a path
// (`../x/`, `../../adapters/x/`, `./a/../../x/`) reaches another layer.
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';

const SRC = resolve(import.meta.dirname, 'src');

// 'core', 'apps', 'adapter:<name>', or null outside src/.
function layerOf(file) {
  const rel = relative(SRC, file);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return null;
  const [top, sub] = rel.split(sep);
  if (top === 'adapters' && sub !== undefined && rel.split(sep).length > 2) return `adapter:${sub}`;
  return top ?? null;
}

// Whether a file of layer `from` may import a file of layer `to` (apps may import anything).
function allowed(from, to) {
  if (from === 'core') return to === 'core';
  if (from.startsWith('adapter:')) return to === 'core' || to === from;
  return true;
}

const layerImports = {
  meta: {
    type: 'problem',
    docs: { description: 'src/core imports only src/core; an adapter imports only itself and src/core' },
    schema: [],
    messages: {
      core: 'src/core is pure: it imports only src/core (this resolves to {{target}})',
      adapter: 'an adapter wraps one library: it imports only its own folder and src/core (this resolves to {{target}})',
    },
  },
  create(context) {
    const from = layerOf(context.filename);
    if (from === null || from === 'apps') return {};
    const check = (node, spec) => {
      if (typeof spec !== 'string' || !(spec.startsWith('.') || spec.startsWith('/'))) return;
      const target = resolve(dirname(context.filename), spec);
      const to = layerOf(target);
      if (to !== null && allowed(from, to)) return;
      context.report({ node, messageId: from === 'core' ? 'core' : 'adapter', data: { target: relative(dirname(SRC), target) } });
    };
    const source = (node) => check(node, node.source?.value);
    return {
      ImportDeclaration: source,
      ExportNamedDeclaration: source,
      ExportAllDeclaration: source,
      ImportExpression: (node) => check(node, node.source.type === 'Literal' ? node.source.value : undefined),
      TSExternalModuleReference: (node) => check(node, node.expression.value),
      TSImportType: (node) => check(node, node.argument?.literal?.value ?? node.source?.value),
    };
  },
};

/** The local plugin holding the resolved-path layering rule. */
export const layeringPlugin = { rules: { 'layer-imports': layerImports } };

const CLOCK = 'reads the clock or a random source: pass `now` (or the random value) in';

/** Config blocks of the layering (to follow the TypeScript parser's blocks). */
export const layering = [
  {
    files: ['src/**/*.ts'],
    plugins: { pvsync: layeringPlugin },
    rules: { 'pvsync/layer-imports': 'error' },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        // node:path only for its pure posix string functions (resolve and relative read the cwd: banned below).
        paths: [{ name: 'node:path', allowImportNames: ['posix'], message: 'src/core uses only posix from node:path' }],
        patterns: [{ regex: '^(?![./])(?!zod$)(?!node:path$)', message: 'src/core is pure: of packages it imports only zod (and node:path posix)' }],
      }],
      'no-restricted-globals': ['error', ...[
        'process', 'global', 'globalThis', 'require', 'console', 'Buffer', 'fetch', 'WebSocket', 'EventSource',
        'XMLHttpRequest', 'navigator', 'performance', 'crypto', 'setTimeout', 'setInterval', 'setImmediate',
        'clearTimeout', 'clearInterval', 'clearImmediate', 'queueMicrotask',
      ].map((name) => ({ name, message: `src/core is pure: no ${name} (I/O, timers, clock or environment belong to adapters and apps)` }))],
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: `Date.now ${CLOCK}` },
        { object: 'Math', property: 'random', message: `Math.random ${CLOCK}` },
        { object: 'posix', property: 'resolve', message: 'posix.resolve reads the working directory' },
        { object: 'posix', property: 'relative', message: 'posix.relative reads the working directory' },
      ],
      'no-restricted-syntax': ['error',
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: `new Date() ${CLOCK}` },
        { selector: "CallExpression[callee.name='Date']", message: `Date() ${CLOCK}` },
        { selector: 'ImportExpression', message: 'src/core imports nothing at run time' },
      ],
    },
  },
  {
    files: ['src/adapters/**/*.ts'],
    rules: {
      'no-restricted-globals': ['error', 'process'],
    },
  },
];

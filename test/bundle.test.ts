// What the CLI bundle (scripts/bundle.mjs → dist/bundle/) contains. esbuild
// marks each input file with a `// node_modules/...` or `// dist/...` comment
// (the bundle is not minified); these checks read those marks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BUNDLE = fileURLToPath(new URL('../../dist/bundle/', import.meta.url));
const MODULES_SRC = fileURLToPath(new URL('../../modules/', import.meta.url));

function bundleFiles(): string[] {
  return readdirSync(BUNDLE, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
}
const code = bundleFiles().map((f) => readFileSync(join(BUNDLE, f), 'utf8'));
const inputs = new Set(code.flatMap((c) => [...c.matchAll(/^\/\/ ((?:node_modules|dist)\/\S+)$/gm)].map((m) => m[1])));

test('the bundle is there, with every built-in module', () => {
  assert.ok(bundleFiles().includes('cli.js'), `no cli.js in ${BUNDLE}: run npm run build`);
  for (const f of readdirSync(MODULES_SRC).filter((f) => f.endsWith('.ts') && !f.startsWith('_'))) {
    assert.ok(inputs.has(`dist/modules/${f.replace(/\.ts$/, '.js')}`), `modules/${f} is not in the bundle`);
  }
});

test('ssh2 stays outside the bundle (its native crypto binding is loaded by require in a try/catch)', () => {
  assert.deepEqual(
    [...inputs].filter((i) => /node_modules\/(ssh2|cpu-features)\//.test(i)),
    [],
  );
  assert.ok(
    code.some((c) => /^import \w+ from "ssh2";$/m.test(c)),
    'no chunk imports ssh2',
  );
});

test("only Handlebars' parser is in the bundle, not its compiler or runtime", () => {
  const hbs = [...inputs].filter((i) => i.startsWith('node_modules/handlebars/'));
  assert.ok(hbs.includes('node_modules/handlebars/dist/cjs/handlebars/compiler/base.js'), hbs.join(', '));
  assert.deepEqual(
    hbs.filter((i) => /runtime|compiler\/(compiler|javascript-compiler)\.js|source-map/.test(i)),
    [],
  );
});

test("zod's unused parts stay out (`import * as z from 'zod'`): no locale but the English one", () => {
  const locales = [...inputs].filter((i) => i.startsWith('node_modules/zod/') && i.includes('/locales/'));
  assert.deepEqual(locales, ['node_modules/zod/v4/locales/en.js']);
});

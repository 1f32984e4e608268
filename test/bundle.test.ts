// What the CLI bundle (scripts/bundle.mjs → dist/bundle/) contains. esbuild
// marks each input file with a `// node_modules/...` or `// dist/...` comment
// (the bundle is not minified); these checks read those marks. And when its
// code cache (bin/load-bundle.js) is used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BUNDLE = fileURLToPath(new URL('../../dist/bundle/', import.meta.url));
const MODULES_SRC = fileURLToPath(new URL('../../modules/', import.meta.url));

function bundleFiles(): string[] {
  return readdirSync(BUNDLE, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.cjs'));
}
const code = bundleFiles().map((f) => readFileSync(join(BUNDLE, f), 'utf8'));
const inputs = new Set(code.flatMap((c) => [...c.matchAll(/^\/\/ ((?:node_modules|dist)\/\S+)$/gm)].map((m) => m[1])));

test('the bundle is there, with every built-in module', () => {
  assert.deepEqual(bundleFiles(), ['cli.cjs'], `no cli.cjs (alone) in ${BUNDLE}: run npm run build`);
  for (const f of readdirSync(MODULES_SRC).filter((f) => f.endsWith('.ts') && !f.startsWith('_'))) {
    assert.ok(inputs.has(`dist/modules/${f.replace(/\.ts$/, '.js')}`), `modules/${f} is not in the bundle`);
  }
});

test('ssh2 is in the bundle, its optional native parts are not: required from where ssh2 itself finds them', () => {
  assert.ok(inputs.has('node_modules/ssh2/lib/client.js'), 'ssh2 is not in the bundle');
  // bundled, ssh2's require() of its binding (in a try/catch) would silently find nothing: JavaScript crypto
  assert.deepEqual(
    [...inputs].filter((i) => /node_modules\/cpu-features\/|\.node$/.test(i)),
    [],
  );
  const text = code.join('\n');
  const binding = 'ssh2/lib/protocol/crypto/build/Release/sshcrypto.node';
  assert.ok(text.includes(`require("${binding}")`), `the bundle does not require ${binding}`);
  assert.ok(text.includes('require("cpu-features")'), 'the bundle does not require cpu-features');
  const fromBundle = createRequire(join(BUNDLE, 'cli.cjs'));
  const fromSsh2 = createRequire(fromBundle.resolve('ssh2/lib/protocol/crypto.js'));
  const resolved = (r: NodeJS.Require, id: string) => {
    try {
      return r.resolve(id);
    } catch {
      return undefined; // not built on this machine: then neither finds it
    }
  };
  assert.equal(resolved(fromBundle, binding), resolved(fromSsh2, './crypto/build/Release/sshcrypto.node'));
  assert.equal(resolved(fromBundle, 'cpu-features'), resolved(fromSsh2, 'cpu-features'));
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
  // locales/index.js, the list that re-exports them all, is there as an empty shell
  const locales = [...inputs].filter(
    (i) => i.startsWith('node_modules/zod/') && i.includes('/locales/') && !i.endsWith('/locales/index.js'),
  );
  assert.deepEqual(locales, ['node_modules/zod/v4/locales/en.js']);
});

test('the bundle is ASCII: bin/load-bundle.js reads it as one-byte text', () => {
  const bytes = readFileSync(join(BUNDLE, 'cli.cjs'));
  const at = bytes.findIndex((b) => b > 0x7f);
  assert.equal(at, -1, `a byte above 0x7f at offset ${at}`);
});

interface Loaded {
  cli: { main?: unknown };
  cacheUsed: boolean;
}
/** bin/load-bundle.js: plain JavaScript, run before anything is built */
interface BundleLoader {
  codeCacheFile: (bundle: string) => string;
  loadBundle: (bundle: string) => Loaded;
}
const { codeCacheFile, loadBundle } = (await import(
  new URL('../../bin/load-bundle.js', import.meta.url).href
)) as BundleLoader;

test('the code cache is used for the bundle it was made from, and for no other text of the same length', () => {
  const dir = mkdtempSync(join(tmpdir(), 'phx-bundle-'));
  try {
    const bundle = join(dir, 'cli.cjs');
    copyFileSync(join(BUNDLE, 'cli.cjs'), bundle);
    copyFileSync(codeCacheFile(join(BUNDLE, 'cli.cjs')), codeCacheFile(bundle));
    const same = loadBundle(bundle);
    assert.equal(same.cacheUsed, true, 'the cache made by npm run build is not taken');
    assert.equal(typeof same.cli.main, 'function');

    // one letter of a comment changed: V8 checks only the length; the digest refuses the cache
    const text = readFileSync(bundle, 'utf8');
    const at = text.indexOf('// dist/src/cli.js');
    assert.ok(at > 0, 'no `// dist/src/cli.js` mark in the bundle');
    writeFileSync(bundle, text.slice(0, at) + '// dist/src/clj.js' + text.slice(at + '// dist/src/cli.js'.length));
    const changed = loadBundle(bundle);
    assert.equal(changed.cacheUsed, false, "a cache for another bundle's text was used");
    assert.equal(typeof changed.cli.main, 'function');

    rmSync(codeCacheFile(bundle));
    assert.equal(loadBundle(bundle).cacheUsed, false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * Runs a local play through the bundle in a fresh node, with `before` run first and `after` last (they see
 * `cli` and `rc`); what `after` writes to stderr as JSON (`{"rc": …}`) comes back, with the run's stdout.
 */
function runInFreshNode(tasks: string, code: { before?: string; after: string }): { seen: unknown; stdout: string } {
  const dir = mkdtempSync(join(tmpdir(), 'phx-bundle-run-'));
  try {
    const play = join(dir, 'local.yml');
    writeFileSync(play, `- hosts: all\n  connection: local\n  gather_facts: false\n  tasks:\n${tasks}`);
    const script = `
      ${code.before ?? ''}
      const { loadBundle } = await import(${JSON.stringify(new URL('../../bin/load-bundle.js', import.meta.url).href)});
      const { cli } = loadBundle(${JSON.stringify(join(BUNDLE, 'cli.cjs'))});
      const rc = await cli.main(['-i', 'localhost,', ${JSON.stringify(play)}]);
      ${code.after}`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    return { seen: JSON.parse(r.stderr.slice(r.stderr.lastIndexOf('{"rc"'))), stdout: r.stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('ssh2 is loaded only by a run that connects over SSH, without node http, https or tls, and assert only when used', () => {
  // node's zlib is loaded by ssh2 (lib/protocol/zlib.js) and nothing else in the bundle
  const { seen, stdout } = runInFreshNode('    - command: "true"\n      changed_when: false\n', {
    after: `
      const loaded = () => ['zlib', 'http', 'https', 'tls', 'assert'].filter((m) => process.moduleLoadList.includes('NativeModule ' + m));
      const local = loaded();
      await cli.loadRunCode();
      const connecting = loaded();
      process.stderr.write(JSON.stringify({ rc, local, connecting }));`,
  });
  assert.deepEqual(seen, { rc: 0, local: [], connecting: ['zlib'] }, stdout);
});

test("zod compiles no parser at run time (src/zod-jitless.ts): a run's schemas are parsed too few times to pay for it", () => {
  // every `new Function` of the run is counted (zod's compiled parsers are made with it)
  const { seen, stdout } = runInFreshNode(
    `    - file: { path: ${JSON.stringify(tmpdir())}, state: directory }\n    - command: "true"\n      changed_when: false\n`,
    {
      before: `
      const made = [];
      globalThis.Function = new Proxy(Function, {
        construct: (target, args) => (made.push(String(args.at(-1)).slice(0, 80)), Reflect.construct(target, args)),
      });`,
      after: 'process.stderr.write(JSON.stringify({ rc, made }));',
    },
  );
  assert.deepEqual(seen, { rc: 0, made: [] }, stdout);
});

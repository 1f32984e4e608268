// Bundles the CLI for start-up time: tsc's output dist/src/cli.js and what it
// imports (our code, zod, yaml, the Handlebars parser, listr2, chalk) become one
// script, dist/bundle/cli.cjs, and V8's code cache for it (scripts/code-cache.mjs).
// Node then reads two files instead of ~190 ES modules, and compiles little.
// CommonJS, not ESM: Node 20 can cache compiled code only for a script it
// compiles through node:vm (bin/load-bundle.js), not for an ES module. What
// src/ imports with import() is still evaluated only when imported (esbuild
// wraps it in a lazy initialiser). Run after `tsc -p .` (npm run build); type
// checking stays with tsc.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * ssh2's native binding (`./crypto/build/Release/sshcrypto.node`) and cpu-features stay outside
 * the bundle, required by their package path: found from dist/bundle/ in the same node_modules
 * as ssh2 finds them.
 */
const ssh2NativeParts = {
  name: 'ssh2-native-parts',
  setup(b) {
    b.onResolve({ filter: /^cpu-features$/ }, (a) => ({ path: a.path, external: true }));
    b.onResolve({ filter: /\.node$/ }, (a) => {
      const file = join(a.resolveDir, a.path);
      const at = file.lastIndexOf('/node_modules/');
      if (at < 0) return { errors: [{ text: `native module ${file} is not in node_modules` }] };
      return { path: file.slice(at + '/node_modules/'.length), external: true };
    });
  },
};

/**
 * ssh2's HTTP(S) agents (http.Agent over an SSH tunnel) are not used by phx-play, and their module
 * loads node's http, https and tls when ssh2 is loaded (~5 ms of every run): it is replaced by one
 * whose agents refuse to be made. test/bundle.test.ts checks nothing else of ours loads them.
 */
const ssh2WithoutHttpAgents = {
  name: 'ssh2-without-http-agents',
  setup(b) {
    b.onResolve({ filter: /^\.\/http-agents\.js$/ }, (a) =>
      /\/node_modules\/ssh2\/lib$/.test(a.resolveDir)
        ? { path: 'ssh2-http-agents', namespace: 'phx-unused' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'phx-unused' }, () => ({
      loader: 'js',
      contents: `class NotBundled {
  constructor() {
    throw new Error("ssh2's HTTPAgent and HTTPSAgent are not in phx-play's bundle (scripts/bundle.mjs)");
  }
}
module.exports = { SSHTTPAgent: NotBundled, SSHTTPSAgent: NotBundled };
`,
    }));
  },
};

/**
 * node's assert, loaded when first used: asn1 and ssh2's node-fs-compat require it at their top
 * level (~2.5 ms of every run that connects, node compiling assert and its helpers) and use it
 * only while they work, which a run with ed25519 keys never asks of them.
 */
const lazyAssertForSsh2 = {
  name: 'lazy-assert-for-ssh2',
  setup(b) {
    b.onResolve({ filter: /^assert$/ }, (a) =>
      /\/node_modules\/(asn1\/lib\/ber|ssh2\/lib\/protocol)$/.test(a.resolveDir)
        ? { path: 'lazy-assert', namespace: 'phx-lazy' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'phx-lazy' }, () => ({
      loader: 'js',
      contents: `let assert;
const load = () => (assert ??= require('node:assert'));
module.exports = new Proxy(function assertLater(...args) {
  return load()(...args);
}, { get: (_, key) => load()[key] });
`,
    }));
  },
};
const outdir = 'dist/bundle';

rmSync(`${root}/${outdir}`, { recursive: true, force: true }); // no stale chunks

await build({
  absWorkingDir: root,
  entryPoints: ['dist/src/cli.js'],
  outfile: `${outdir}/cli.cjs`,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // ssh2 is in the bundle (its start-up was 40 ms of CPU, most of it finding and compiling
  // files), but not its optional native parts: it loads them with require() in a try/catch,
  // and bundled they would silently be missing (slow JavaScript crypto instead).
  plugins: [ssh2NativeParts, ssh2WithoutHttpAgents, lazyAssertForSsh2],
  // bin/load-bundle.js passes the bundle's URL (src/cli.ts finds package.json from it)
  define: { 'import.meta.url': '__phxBundleUrl' },
  // readable output: no minifying; maps back to the TypeScript through tsc's maps
  sourcemap: 'linked',
  logLevel: 'warning',
});

// ASCII only: node reads it as one-byte text, several times faster than decoding UTF-8 (and V8
// keeps it as a one-byte string). esbuild escapes strings and regular expressions itself; what
// is left is comments, where `\uXXXX` reads the same (and means the same anywhere else).
const bundleFile = `${root}/${outdir}/cli.cjs`;
const text = readFileSync(bundleFile, 'utf8');
writeFileSync(
  bundleFile,
  // eslint-disable-next-line no-control-regex -- every byte outside ASCII, whatever it is
  text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
);

// a fresh node, without this script's state, as bin/phx-play.js runs
execFileSync(process.execPath, [`${root}/scripts/code-cache.mjs`], { stdio: ['ignore', 'ignore', 'inherit'] });

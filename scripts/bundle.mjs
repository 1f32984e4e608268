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
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
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
  // ssh2 loads its optional native crypto binding with require() in a try/catch:
  // bundled, it would silently fall back to slow JavaScript crypto. It is only
  // required by the (lazy) connection code.
  external: ['ssh2'],
  // bin/load-bundle.js passes the bundle's URL (src/cli.ts finds package.json from it)
  define: { 'import.meta.url': '__phxBundleUrl' },
  // readable output: no minifying; maps back to the TypeScript through tsc's maps
  sourcemap: 'linked',
  logLevel: 'warning',
});

// a fresh node, without this script's state, as bin/phx-play.js runs
execFileSync(process.execPath, [`${root}/scripts/code-cache.mjs`], { stdio: ['ignore', 'ignore', 'inherit'] });

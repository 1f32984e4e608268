// Bundles the CLI for start-up time: tsc's output dist/src/cli.js and what it
// imports (our code, zod, yaml, the Handlebars parser, listr2, chalk) become
// dist/bundle/cli.js plus chunks for what cli.js imports lazily (the modules,
// executor, connections, reporters). Node then loads a handful of files instead
// of ~190 ES modules. Run after `tsc -p .` (npm run build); type checking stays
// with tsc. bin/phx-play.js imports dist/bundle/cli.js.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = 'dist/bundle';

rmSync(`${root}/${outdir}`, { recursive: true, force: true }); // no stale chunks

await build({
  absWorkingDir: root,
  entryPoints: { cli: 'dist/src/cli.js' },
  outdir,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // the dynamic import()s of src/cli.ts stay lazy: separate chunks
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  // ssh2 loads its optional native crypto binding with require() in a try/catch:
  // bundled, it would silently fall back to slow JavaScript crypto. It is only
  // imported by the (lazy) connection code.
  external: ['ssh2'],
  // CommonJS code in an ESM bundle (yaml, the Handlebars parser) may require()
  // node's built-ins: give it a real require.
  banner: {
    js: "import { createRequire as __phxCreateRequire } from 'node:module';\nconst require = __phxCreateRequire(import.meta.url);",
  },
  // readable output: no minifying; maps back to the TypeScript through tsc's maps
  sourcemap: 'linked',
  logLevel: 'warning',
});

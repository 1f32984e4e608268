#!/usr/bin/env node
// Entry point. `--version` answers without loading the engine, to keep start-up light.
// The engine is the bundle that `npm run build` makes (scripts/bundle.mjs): dist/bundle/cli.cjs,
// loaded with its code cache (load-bundle.js).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// `phx-play schema | head` closes the pipe early: that is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === '--version') {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`phx-play ${pkg.version}\n`);
} else {
  const { BUNDLE, loadBundle } = await import('./load-bundle.js');
  let cli;
  try {
    ({ cli } = loadBundle());
  } catch (e) {
    if (e?.code !== 'ENOENT' || existsSync(BUNDLE)) throw e;
    process.stderr.write(
      `phx-play: ${BUNDLE} is missing: run \`npm run build\` in ${fileURLToPath(new URL('..', import.meta.url))}\n`,
    );
    process.exit(1);
  }
  process.exitCode = await cli.main(argv);
}

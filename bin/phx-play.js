#!/usr/bin/env node
// Entry point. `--version` answers without loading the engine, to keep start-up light.
// The engine is the bundle that `npm run build` makes (scripts/bundle.mjs): dist/bundle/cli.js.
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
  const bundle = new URL('../dist/bundle/cli.js', import.meta.url);
  let cli;
  try {
    cli = await import(bundle.href);
  } catch (e) {
    if (e?.code !== 'ERR_MODULE_NOT_FOUND' || existsSync(bundle)) throw e;
    process.stderr.write(
      `phx-play: ${fileURLToPath(bundle)} is missing: run \`npm run build\` in ${fileURLToPath(new URL('..', import.meta.url))}\n`,
    );
    process.exit(1);
  }
  process.exitCode = await cli.main(argv);
}

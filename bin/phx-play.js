#!/usr/bin/env node
// Entry point. `--version` answers without loading the engine, to keep start-up light.
import { readFileSync } from 'node:fs';

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
  const { main } = await import('../dist/src/cli.js');
  process.exitCode = await main(argv);
}

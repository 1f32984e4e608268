// phx-play's main: parse the command line, then (src/cli/commands.ts) load and
// validate everything and run — or report a located error and exit 1 with
// nothing run.
import './zod-jitless.js';
import { readFileSync } from 'node:fs';
import { parseCli, HELP } from './cli/args.js';

export async function main(argv: string[]): Promise<number> {
  try {
    return await mainInner(argv);
  } catch (e) {
    const { userErrorText } = await import('./cli/errors.js');
    // a vault secret is never shown, in an error message neither
    const { maskSecrets } = await import('./vault/secrecy.js');
    const text = userErrorText(e);
    if (text !== null) {
      process.stderr.write(maskSecrets(text) + '\n');
      return 1;
    }
    const { terminalSafe } = await import('./output/escape.js');
    process.stderr.write(
      maskSecrets(terminalSafe(`phx-play: internal error: ${(e as Error)?.message ?? String(e)}\n`)),
    );
    if (process.env.PHX_DEBUG) process.stderr.write(`${(e as Error)?.stack}\n`);
    return 250;
  }
}

async function mainInner(argv: string[]): Promise<number> {
  if (argv[0] === 'vault') {
    // ansible-vault's commands have options of their own
    const { runVaultCommand } = await import('./cli/vault.js');
    return runVaultCommand(argv.slice(1));
  }
  const o = parseCli(argv);
  if (o.command === 'help') {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (o.command === 'version') {
    process.stdout.write(`phx-play ${packageVersion()}\n`);
    return 0;
  }
  // the rest loads only now: `--help` stays light
  const { runCommand } = await import('./cli/commands.js');
  return runCommand(o);
}

/** The version in phx-play's package.json, found upwards from this file: it runs from dist/src/ (tsc) or dist/bundle/. */
function packageVersion(): string {
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === 'phx-play' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // no package.json here, or not readable: keep looking
    }
    if (dir.pathname === '/') throw new Error(`no package.json of phx-play above ${import.meta.url}`);
  }
}

export { loadRunCode } from './cli/warm-up.js';

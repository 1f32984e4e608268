// Makes the CLI bundle's code cache (bin/load-bundle.js): loads dist/bundle/cli.cjs in this
// fresh process, runs `--syntax-check` of code-cache-warmup.yml (a run's start-up: YAML,
// validation, templates, module schemas; nothing touches a host), loads the code a run loads
// before its first connection (src/cli/warm-up.ts: executor, ssh2, reporters) and writes what
// V8 has compiled by then to dist/bundle/cli.cjs.codecache, atomically. Run by scripts/bundle.mjs,
// with the same node (and no V8 flags) that bin/phx-play.js runs with.
import { renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BUNDLE, codeCacheFile, loadBundle } from '../bin/load-bundle.js';

const warmup = fileURLToPath(new URL('code-cache-warmup.yml', import.meta.url));
const { cli, codeCache } = loadBundle();
const rc = await cli.main(['--syntax-check', '-i', 'warmup.example,', warmup]);
if (rc !== 0) throw new Error(`phx-play --syntax-check ${warmup} exited ${rc}: the code cache is not written`);
await cli.loadRunCode();
const file = codeCacheFile(BUNDLE);
const tmp = `${file}.${process.pid}.tmp`; // two builds at once each write their own
writeFileSync(tmp, codeCache());
renameSync(tmp, file);

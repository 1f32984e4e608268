// Makes the CLI bundle's code cache (bin/load-bundle.js): loads dist/bundle/cli.cjs in this
// fresh process, runs `--syntax-check` of code-cache-warmup.yml (a run's start-up: YAML,
// validation, templates, module schemas; nothing touches a host), loads the code a run loads
// before its first connection (src/cli/warm-up.ts: executor, ssh2, reporters), runs
// code-cache-run.yml against a throwaway SSH host on 127.0.0.1 (warm-up-host.mjs: the first
// connection and tasks, ~30 ms of compiling in every run that connects) and writes what V8 has
// compiled by then to dist/bundle/cli.cjs.codecache, atomically. Run by scripts/bundle.mjs, with
// the same node (and no V8 flags) that bin/phx-play.js runs with. Should the run fail, the cache
// is written without it (a warning says so): it is an optimisation only.
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLE, codeCacheFile, loadBundle } from '../bin/load-bundle.js';
import { startWarmUpHost } from './warm-up-host.mjs';

const warmup = fileURLToPath(new URL('code-cache-warmup.yml', import.meta.url));
const warmupRun = fileURLToPath(new URL('code-cache-run.yml', import.meta.url));
const RUN_TIMEOUT_MS = 30_000;

const { cli, codeCache } = loadBundle();
const rc = await cli.main(['--syntax-check', '-i', 'warmup.example,', warmup]);
if (rc !== 0) throw new Error(`phx-play --syntax-check ${warmup} exited ${rc}: the code cache is not written`);
await cli.loadRunCode();
const ranToEnd = await runAgainstWarmUpHost().then(
  () => true,
  (e) => {
    process.stderr.write(
      `code cache: the warm-up run against a local SSH host failed (${e.message}); the cache holds less\n`,
    );
    return false;
  },
);
const file = codeCacheFile(BUNDLE);
const tmp = `${file}.${process.pid}.tmp`; // two builds at once each write their own
writeFileSync(tmp, codeCache());
renameSync(tmp, file);
if (!ranToEnd) process.exit(0); // a run that is still waiting for something must not hold the build

async function runAgainstWarmUpHost() {
  const host = await startWarmUpHost();
  const dir = mkdtempSync(join(tmpdir(), 'phx-code-cache-'));
  try {
    const key = join(dir, 'id_ed25519');
    writeFileSync(key, host.clientKey, { mode: 0o600 });
    const knownHosts = join(dir, 'known_hosts');
    writeFileSync(knownHosts, `[127.0.0.1]:${host.port} ${host.hostKey}\n`);
    const inventory = join(dir, 'hosts.ini');
    const vars = {
      ansible_host: '127.0.0.1',
      ansible_port: host.port,
      ansible_user: userInfo().username,
      ansible_ssh_private_key_file: key,
      ansible_ssh_known_hosts_file: knownHosts,
    };
    writeFileSync(
      inventory,
      `warmup ${Object.entries(vars)
        .map(([k, v]) => `${k}=${JSON.stringify(String(v))}`)
        .join(' ')}\n`,
    );
    delete process.env.SSH_AUTH_SOCK; // this host takes only its own key: no agent keys to try first
    let timer;
    const timeout = new Promise((_, rej) => {
      timer = setTimeout(() => rej(new Error(`no end in ${RUN_TIMEOUT_MS / 1000} s`)), RUN_TIMEOUT_MS);
    });
    try {
      const runRc = await Promise.race([cli.main(['-i', inventory, '-T', '10', warmupRun]), timeout]);
      if (runRc !== 0) throw new Error(`phx-play ${warmupRun} exited ${runRc}`);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    host.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

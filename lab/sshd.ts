// Real OpenSSH sshd processes on loopback ports, for the tests, the lab and the
// bench. Each sshd gets its own directory (host key, config, authorized keys,
// pid, log), runs in the foreground, and is stopped by PID together with every
// session process it forked, so nothing outlives a test run.
import { alive } from './proc.js';
import { sleep } from '../src/sleep.js';
import { spawn, execFile } from 'node:child_process';
import { mkdir, writeFile, readFile, rm, chmod } from 'node:fs/promises';
import { openSync, closeSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { join, resolve, dirname } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const SSHD_PATH = '/usr/sbin/sshd';

export interface SshdOptions {
  /** working dir for this sshd: host keys, config, pid, log */
  dir: string;
  /** default: a free port on the listen address */
  port?: number;
  /** loopback address to listen on; default 127.0.0.1. Only 127.0.0.0/8 is allowed. */
  address?: string;
  /** public key lines written to <dir>/authorized_keys_<user> for every user in `users` */
  authorizedKeys?: string[];
  /** login users the authorizedKeys are for; default ['root'] */
  users?: string[];
  passwordAuth?: boolean;
  /** extra sshd_config lines; they override the defaults (a `Match` block goes at the end) */
  extraConfig?: string[];
  /** argv prefix to start sshd inside something, e.g. ['unshare', '-m', '--'] */
  launchPrefix?: string[];
  /** environment of the sshd process (added to a minimal PATH) */
  env?: Record<string, string>;
  /**
   * Keep sshd running after this process exits (the lab's `up`): its own process
   * group, and not killed by the exit hook. Default false (tests, bench).
   */
  persistent?: boolean;
  /** how long to wait for the port to accept connections; default 10 s */
  startTimeoutMs?: number;
}

export interface SshdHandle {
  port: number;
  address: string;
  pid: number;
  dir: string;
  /** "ssh-ed25519 AAAA..." */
  hostKeyPub: string;
  /** A known_hosts line for this server: `[127.0.0.1]:port key` (or `[alias]:port key`). */
  knownHostsLine(alias?: string): string;
  /** Stops sshd and all its session processes (SIGTERM, then SIGKILL), waits for exit. */
  stop(): Promise<void>;
  /** Kills sshd and its sessions at once (SIGKILL): a host that dies mid-run. */
  kill(): Promise<void>;
}

const running = new Set<SshdHandle>();
const persistentHandles = new WeakSet<SshdHandle>();

/** Stops every sshd this process started and has not stopped yet (call in `after`). */
export async function stopAllSshd(): Promise<void> {
  await Promise.all([...running].map((h) => h.stop()));
}

// Last resort on exit (a test that threw before `after`): kill synchronously.
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const h of running)
      if (!persistentHandles.has(h)) for (const pid of processTree(h.pid)) tryKill(pid, 'SIGKILL');
  });
}

export async function generateKeyPair(
  path: string,
  type: 'ed25519' | 'rsa' | 'ecdsa' = 'ed25519',
  passphrase = '',
): Promise<{ privatePath: string; publicKey: string }> {
  await mkdir(dirname(path), { recursive: true });
  await rm(path, { force: true });
  await rm(`${path}.pub`, { force: true });
  const bits = type === 'rsa' ? ['-b', '3072'] : [];
  await run('ssh-keygen', ['-q', '-t', type, ...bits, '-N', passphrase, '-C', 'phx-test', '-f', path]);
  await chmod(path, 0o600);
  const publicKey = (await readFile(`${path}.pub`, 'utf8')).trim();
  return { privatePath: path, publicKey };
}

export async function startSshd(o: SshdOptions): Promise<SshdHandle> {
  const address = o.address ?? '127.0.0.1';
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address))
    throw new Error(`sshd may only listen on 127.0.0.0/8, not ${address}`);
  const dir = resolve(o.dir);
  // 0755: sshd reads authorized_keys_<user> as that user, who must get through the directory
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await chmod(dir, 0o755);
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 }); // privilege separation dir

  const hostKey = join(dir, 'ssh_host_ed25519_key');
  let hostKeyPub: string;
  try {
    hostKeyPub = (await readFile(`${hostKey}.pub`, 'utf8')).trim();
  } catch {
    hostKeyPub = (await generateKeyPair(hostKey, 'ed25519')).publicKey;
  }
  hostKeyPub = hostKeyPub.split(/\s+/).slice(0, 2).join(' ');

  for (const user of o.users ?? ['root']) {
    const file = join(dir, `authorized_keys_${user}`);
    await writeFile(file, (o.authorizedKeys ?? []).map((k) => `${k.trim()}\n`).join(''), { mode: 0o644 });
    await chmod(file, 0o644); // readable by the unprivileged session user too
  }

  const startTimeoutMs = o.startTimeoutMs ?? 10_000;
  // A port picked by probing can be taken before sshd binds it: retry a few times.
  for (let attempt = 0; ; attempt++) {
    const port = o.port ?? (await freePort(address));
    try {
      const handle = await launch(o, dir, address, port, hostKey, hostKeyPub, startTimeoutMs);
      return handle;
    } catch (e) {
      if (o.port !== undefined || attempt >= 3 || !/Address already in use|Cannot bind/i.test(String(e))) throw e;
    }
  }
}

async function launch(
  o: SshdOptions,
  dir: string,
  address: string,
  port: number,
  hostKey: string,
  hostKeyPub: string,
  startTimeoutMs: number,
): Promise<SshdHandle> {
  const cfgPath = join(dir, 'sshd_config');
  const pidFile = join(dir, 'sshd.pid');
  const logPath = join(dir, 'sshd.log');
  // sshd keeps the first value of a keyword: extra lines go first so they win;
  // a Match block (which runs to the end of the file) goes last.
  const extra = o.extraConfig ?? [];
  const matchAt = extra.findIndex((l) => /^\s*Match\s/i.test(l));
  const extraFirst = matchAt < 0 ? extra : extra.slice(0, matchAt);
  const extraLast = matchAt < 0 ? [] : extra.slice(matchAt);
  const config = [
    ...extraFirst,
    `Port ${port}`,
    `ListenAddress ${address}`,
    `HostKey ${hostKey}`,
    `PidFile ${pidFile}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys_%u')}`,
    // The key files live under /tmp (world-writable): StrictModes would refuse them.
    'StrictModes no',
    // Without PAM, sshd checks passwords against /etc/shadow itself, which is all the tests need.
    'UsePAM no',
    `PasswordAuthentication ${o.passwordAuth ? 'yes' : 'no'}`,
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    'PermitRootLogin yes',
    'PermitEmptyPasswords no',
    // bash skips ~/.bashrc (pyenv init, slow) for ssh commands when SHLVL is already set.
    'SetEnv SHLVL=1',
    'PermitUserEnvironment no',
    'MaxSessions 100',
    'MaxStartups 100:30:200',
    'MaxAuthTries 20',
    'LoginGraceTime 30',
    'UseDNS no',
    'PrintMotd no',
    'PrintLastLog no',
    'X11Forwarding no',
    'AllowTcpForwarding yes',
    'Subsystem sftp internal-sftp',
    'LogLevel ERROR',
    ...extraLast,
  ];
  await writeFile(cfgPath, config.join('\n') + '\n', { mode: 0o600 });
  await rm(pidFile, { force: true });

  const logFd = openSync(logPath, 'a');
  const argv = [...(o.launchPrefix ?? []), SSHD_PATH, '-D', '-e', '-f', cfgPath];
  const child = spawn(argv[0], argv.slice(1), {
    stdio: ['ignore', logFd, logFd],
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...o.env },
    // By default in our process group: a Ctrl-C or a kill of the test runner's group takes sshd along.
    detached: o.persistent === true,
  });
  closeSync(logFd);
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start ${argv.join(' ')}`);

  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((res) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      res();
    });
    child.once('error', () => {
      exited = { code: -1, signal: null };
      res();
    });
  });

  const deadline = Date.now() + startTimeoutMs;
  while (!(await acceptsConnections(address, port))) {
    if (exited || Date.now() > deadline) {
      if (!exited) for (const p of processTree(pid)) tryKill(p, 'SIGKILL');
      const log = await readFile(logPath, 'utf8').catch(() => '');
      throw new Error(
        `sshd on ${address}:${port} did not start${exited ? ` (exit ${exited.code ?? exited.signal})` : ' in time'}: ${log.trim().slice(-2000)}`,
      );
    }
    await sleep(25);
  }

  const stopWith = async (first: NodeJS.Signals): Promise<void> => {
    if (!running.has(handle)) return;
    running.delete(handle);
    // Session processes call setsid() and outlive their listener: kill the whole tree.
    const tree = processTree(pid);
    for (const p of tree) tryKill(p, first);
    const gone = exited ? Promise.resolve() : exitPromise;
    const timedOut = await Promise.race([gone.then(() => false), sleep(3000).then(() => true)]);
    if (timedOut) {
      for (const p of processTree(pid)) tryKill(p, 'SIGKILL');
      await exitPromise;
    }
    // Sessions are not our children: wait until they are gone too.
    for (let i = 0; i < 200 && tree.some(alive); i++) {
      if (i === 60) for (const p of tree) tryKill(p, 'SIGKILL');
      await sleep(25);
    }
  };

  const handle: SshdHandle = {
    port,
    address,
    pid,
    dir,
    hostKeyPub,
    knownHostsLine(alias?: string) {
      const name = alias ?? address;
      return `${port === 22 ? name : `[${name}]:${port}`} ${hostKeyPub}`;
    },
    stop: () => stopWith('SIGTERM'),
    kill: () => stopWith('SIGKILL'),
  };
  running.add(handle);
  if (o.persistent) persistentHandles.add(handle);
  installExitHook();
  return handle;
}

/** `pid` and all its descendants, found through /proc (parents first). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [pid];
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // "pid (comm) state ppid ...": comm may contain spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // the process exited while we looked
    }
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift()!;
    out.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return out;
}

function tryKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function freePort(address: string): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, address, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

function acceptsConnections(address: string, port: number): Promise<boolean> {
  return new Promise((res) => {
    const sock = tcpConnect({ host: address, port });
    const done = (ok: boolean) => {
      sock.destroy();
      res(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

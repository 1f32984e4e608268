// A throwaway SSH world for one test file: a temp dir with a fake home (no keys,
// no config unless a test writes one), a client key, a known_hosts file, real
// sshd processes on loopback, and test users with sudo rules, all removed again.
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile, appendFile, chmod } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { generateKeyPair, startSshd, stopAllSshd, type SshdHandle, type SshdOptions } from '../../lab/sshd.js';
import type { ConnectionOptions } from '../../src/connection/index.js';

const run = promisify(execFile);

export interface SshTestEnv {
  root: string;
  /** fake home: <root>/home with an empty .ssh */
  home: string;
  key: { privatePath: string; publicKey: string };
  /** the known_hosts file the options point at */
  knownHosts: string;
  /** options that never touch the real ~/.ssh, agent or /etc/ssh */
  options(extra?: Partial<ConnectionOptions>): ConnectionOptions;
  /** starts sshd accepting `key`, and records its key in knownHosts (unless trust is false) */
  startHost(extra?: Partial<SshdOptions> & { trust?: boolean; name?: string }): Promise<SshdHandle>;
  hostVars(h: SshdHandle, extra?: Record<string, unknown>): Record<string, unknown>;
  /** creates a local user with a password (sshd without PAM refuses locked accounts) */
  addUser(prefix: string, password: string, sudoRule?: string): Promise<string>;
  cleanup(): Promise<void>;
}

export async function createSshEnv(label: string): Promise<SshTestEnv> {
  const root = await mkdtemp(join(tmpdir(), `phx-${label}-`));
  await chmod(root, 0o755); // test users' sshd sessions read their authorized_keys below it
  const home = join(root, 'home');
  await mkdir(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  const key = await generateKeyPair(join(root, 'client', 'id_ed25519'));
  const knownHosts = join(root, 'known_hosts');
  await writeFile(knownHosts, '');
  const users: string[] = [];
  let hosts = 0;

  const env: SshTestEnv = {
    root,
    home,
    key,
    knownHosts,
    options: (extra = {}) => ({
      homeDir: home,
      agentSocket: null,
      knownHostsFile: knownHosts,
      globalKnownHostsFiles: [],
      sshConfigFiles: [join(home, '.ssh', 'config')],
      privateKey: key.privatePath,
      connectTimeoutMs: 5000,
      ...extra,
    }),
    async startHost(extra = {}) {
      const { trust, name, ...o } = extra;
      const h = await startSshd({
        dir: join(root, `sshd-${name ?? hosts++}`),
        authorizedKeys: [key.publicKey],
        users: ['root', ...users],
        ...o,
      });
      if (trust !== false) await appendFile(knownHosts, `${h.knownHostsLine()}\n`);
      return h;
    },
    hostVars: (h, extra = {}) => ({ ansible_host: '127.0.0.1', ansible_port: h.port, ansible_user: 'root', ...extra }),
    async addUser(prefix, password, sudoRule) {
      const name = `${prefix}${randomBytes(3).toString('hex')}`;
      await run('useradd', ['-m', '-s', '/bin/sh', name]);
      users.push(name);
      await new Promise<void>((res, rej) => {
        const p = execFile('chpasswd', (e: Error | null) => (e ? rej(e) : res()));
        p.stdin!.end(`${name}:${password}\n`);
      });
      if (sudoRule) {
        const file = `/etc/sudoers.d/${name}`;
        await writeFile(file, `${name} ${sudoRule}\n`, { mode: 0o440 });
        await run('visudo', ['-c', '-q', '-f', file]);
      }
      return name;
    },
    async cleanup() {
      await stopAllSshd();
      for (const u of users) {
        await rm(`/etc/sudoers.d/${u}`, { force: true });
        await run('userdel', ['-r', '-f', u]).catch(() => undefined);
      }
      await rm(root, { recursive: true, force: true });
    },
  };
  return env;
}

/** A port on 127.0.0.1 that nothing listens on (bound and released). */
export async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => res(port));
    });
  });
}

export function fileExists(p: string): boolean {
  return existsSync(p);
}

export async function fingerprintOf(publicKeyLine: string, dir: string): Promise<string> {
  const f = join(dir, `fp-${randomBytes(4).toString('hex')}.pub`);
  await writeFile(f, `${publicKeyLine}\n`);
  const { stdout } = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', f]);
  return stdout.split(' ')[1];
}

export { run };

// Picks and configures the connection for one host from its variables, the
// CLI options and ~/.ssh/config. Precedence as Ansible passes it to OpenSSH:
// inventory vars (ansible_host/port/user) > CLI options > ssh config > defaults.
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { PhxError, UnreachableError } from '../errors.js';
import { pctVmid } from '../inventory/connection-vars.js';
import { LocalConnection } from './local.js';
import { PctConnection } from './pct.js';
import { parseJumpSpec, resolveSshConfig, type ResolveContext } from './ssh-config.js';
import { SshConnection, type SshEndpoint } from './ssh.js';
import type { Connection } from './types.js';

export type { Connection, ExecOptions, ExecResult, Become, BecomeExchange } from './types.js';
export { buildCommand, type BuiltCommand, type CommandContext } from './command.js';
export { BecomeError } from './become.js';

export interface ConnectionOptions {
  /** `-T`: TCP + handshake + auth; default 10 s (host var ansible_ssh_timeout, seconds, wins) */
  connectTimeoutMs?: number;
  /** `--private-key` */
  privateKey?: string;
  /** passphrase for encrypted key files (else askPassword is asked, once per key file) */
  privateKeyPassphrase?: string;
  /** `-u`; ansible_user wins over it */
  user?: string;
  /** `-c`: the connection type of hosts with no ansible_connection (nor a play's `connection:`); default ssh */
  connection?: string;
  /** the `-k/--ask-pass` answer; ansible_password wins over it */
  password?: string;
  /** `--ssh-accept-new`: add unknown host keys to known_hosts (never replaces a changed one) */
  acceptNew?: boolean;
  /** user known_hosts file to check and to add to (default ~/.ssh/known_hosts); host var ansible_ssh_known_hosts_file wins */
  knownHostsFile?: string;
  /** asks the user (passphrases); supplied by the CLI when it has a terminal */
  askPassword?: (prompt: string) => Promise<string>;
  /** -vvv detail */
  onDebug?: (msg: string) => void;
  /** the servers' MaxSessions (OpenSSH default 10); parallel execs beyond it queue. Default 10 */
  maxSessions?: number;
  /** SSH keepalive; default 15 s, 3 missed answers drop the host */
  keepaliveIntervalMs?: number;
  /** home directory for ~/.ssh (config, default keys, known_hosts); default os.homedir() (tests inject a temp dir) */
  homeDir?: string;
  /** ssh config files; default [~/.ssh/config, /etc/ssh/ssh_config] */
  sshConfigFiles?: string[];
  /** default [/etc/ssh/ssh_known_hosts, /etc/ssh/ssh_known_hosts2] */
  globalKnownHostsFiles?: string[];
  /** ssh-agent socket; default $SSH_AUTH_SOCK; null disables the agent */
  agentSocket?: string | null;
  /** the run's (opened, reused) connection to another inventory host: what a pct host goes through */
  hostConnection?: (host: string) => Promise<Connection>;
}

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

function str(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function portOf(host: string, name: string, v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  // a number, or a string of one; anything else (a list, a mapping) is not a port
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new PhxError(`host ${host}: ${name} must be a port number (1-65535), got ${JSON.stringify(v)}`);
  return n;
}

/** `-J hop` or `-o ProxyJump=hop` inside ansible_ssh_common_args / ansible_ssh_extra_args. */
function jumpFromArgs(args: string | undefined): string | undefined {
  if (!args) return undefined;
  const m = /(?:^|\s)-J\s*(\S+)/.exec(args) ?? /ProxyJump[= ]\s*(\S+?)['"]?(?:\s|$)/i.exec(args);
  return m?.[1];
}

/** An unconnected Connection for `host` (its inventory name). Throws PhxError on invalid connection vars. */
export function openConnection(
  host: string,
  hostVars: Record<string, unknown>,
  options: ConnectionOptions = {},
): Connection {
  const kind = str(hostVars.ansible_connection) ?? options.connection ?? 'ssh';
  if (kind === 'local') return new LocalConnection();
  if (kind === 'pct') return pctConnection(host, hostVars, options);
  if (kind !== 'ssh' && kind !== 'smart' && kind !== 'paramiko') {
    throw new PhxError(
      `host ${host}: ansible_connection ${JSON.stringify(kind)} is not supported (use ssh, local or pct)`,
    );
  }

  const homeDir = options.homeDir ?? homedir();
  const localUser = safeLocalUser();
  const ctx: ResolveContext = { homeDir, localUser, onNote: options.onDebug };
  const configFiles = options.sshConfigFiles ?? [join(homeDir, '.ssh', 'config'), '/etc/ssh/ssh_config'];

  const destination = str(hostVars.ansible_host) ?? str(hostVars.ansible_ssh_host) ?? host;
  const cfg = resolveSshConfig(configFiles, destination, ctx);
  const port = portOf(host, 'ansible_port', hostVars.ansible_port ?? hostVars.ansible_ssh_port) ?? cfg.port ?? 22;
  const user = str(hostVars.ansible_user) ?? str(hostVars.ansible_ssh_user) ?? options.user ?? cfg.user ?? localUser;
  const password = str(hostVars.ansible_password) ?? str(hostVars.ansible_ssh_pass) ?? options.password;
  const agentSocket = options.agentSocket === null ? undefined : (options.agentSocket ?? process.env.SSH_AUTH_SOCK);

  const keyFilesFor = (configured: string[], extra: (string | undefined)[]) => [
    ...[...extra, ...configured]
      .filter((p): p is string => !!p)
      .map((path) => ({ path: expandHome(path, homeDir), explicit: true })),
    ...DEFAULT_KEYS.map((k) => ({ path: join(homeDir, '.ssh', k), explicit: false })),
  ];
  const hostKeyFile = str(hostVars.ansible_ssh_private_key_file) ?? str(hostVars.ansible_private_key_file);

  const target: SshEndpoint = {
    host: cfg.hostName ?? destination,
    port,
    user,
    hostKeyName: cfg.hostKeyAlias ?? cfg.hostName ?? destination,
    auth: {
      agentSocket,
      keyFiles: keyFilesFor(cfg.identityFiles, [hostKeyFile, options.privateKey]),
      passphrase: options.privateKeyPassphrase,
      password,
    },
  };

  const jumpSpecs =
    jumpFromArgs(str(hostVars.ansible_ssh_common_args))?.split(',') ??
    jumpFromArgs(str(hostVars.ansible_ssh_extra_args))?.split(',') ??
    cfg.proxyJump ??
    [];
  const jumps: SshEndpoint[] = jumpSpecs.map((spec) => {
    const j = parseJumpSpec(spec);
    const jc = resolveSshConfig(configFiles, j.host, ctx);
    return {
      host: jc.hostName ?? j.host,
      port: j.port ?? jc.port ?? 22,
      user: j.user ?? jc.user ?? options.user ?? localUser,
      hostKeyName: jc.hostKeyAlias ?? jc.hostName ?? j.host,
      // the jump host gets the run's keys and -k password, not this host's ansible_password
      auth: {
        agentSocket,
        keyFiles: keyFilesFor(jc.identityFiles, [options.privateKey]),
        passphrase: options.privateKeyPassphrase,
        password: options.password,
      },
    };
  });

  const checking = (
    str(hostVars.ansible_ssh_host_key_checking) ??
    str(hostVars.ansible_host_key_checking) ??
    ''
  ).toLowerCase();
  if (['false', 'no', 'off', '0'].includes(checking)) {
    // Never accept keys silently; say so instead of pretending.
    return new RefusedConnection(
      `host ${host}: ansible_ssh_host_key_checking=${checking} is not supported: phx-play always verifies host keys (use accept-new to add unknown keys)`,
    );
  }
  const acceptNew =
    options.acceptNew === true || checking === 'accept-new' || cfg.strictHostKeyChecking === 'accept-new';

  const knownHostsFile = str(hostVars.ansible_ssh_known_hosts_file) ?? options.knownHostsFile;
  const userKnownHostsFiles = knownHostsFile
    ? [expandHome(knownHostsFile, homeDir)]
    : (cfg.userKnownHostsFiles ?? [join(homeDir, '.ssh', 'known_hosts'), join(homeDir, '.ssh', 'known_hosts2')]);

  const timeoutVar = str(hostVars.ansible_ssh_timeout) ?? str(hostVars.ansible_timeout);
  const timeoutSeconds = timeoutVar !== undefined ? Number(timeoutVar) : undefined;
  if (timeoutSeconds !== undefined && !(timeoutSeconds > 0))
    throw new PhxError(
      `host ${host}: ansible_ssh_timeout must be a positive number of seconds, got ${JSON.stringify(timeoutVar)}`,
    );

  return new SshConnection({
    target,
    jumps,
    connectTimeoutMs: timeoutSeconds !== undefined ? timeoutSeconds * 1000 : (options.connectTimeoutMs ?? 10_000),
    keepaliveIntervalMs: options.keepaliveIntervalMs ?? 15_000,
    userKnownHostsFiles,
    globalKnownHostsFiles: options.globalKnownHostsFiles ?? ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'],
    acceptNew,
    maxSessions: options.maxSessions,
    askPassword: options.askPassword,
    onDebug: options.onDebug,
  });
}

/** A container: `ansible_host` names the hypervisor (an inventory host), `pct_vmid` the CT. */
function pctConnection(host: string, hostVars: Record<string, unknown>, options: ConnectionOptions): Connection {
  const hypervisor = str(hostVars.ansible_host);
  const vmid = pctVmid(hostVars.pct_vmid);
  if (hypervisor === undefined || hypervisor === host)
    throw new PhxError(`host ${host}: ansible_connection pct needs ansible_host: the hypervisor's inventory name`);
  if (vmid === undefined)
    throw new PhxError(
      `host ${host}: ansible_connection pct needs pct_vmid: the container's id (100-999999999), got ${JSON.stringify(hostVars.pct_vmid)}`,
    );
  const open = options.hostConnection;
  if (!open)
    throw new PhxError(
      `host ${host}: ansible_connection pct can only be used in a run (it needs ${hypervisor}'s connection)`,
    );
  return new PctConnection({ host, hypervisor, vmid, open: () => open(hypervisor) });
}

function expandHome(p: string, home: string): string {
  if (p === '~') return home;
  return p.startsWith('~/') ? join(home, p.slice(2)) : p;
}

let localUserName: string | undefined;

/** This process's user, looked up once (the passwd lookup was made again for every host). */
function safeLocalUser(): string {
  if (localUserName === undefined) {
    try {
      localUserName = userInfo().username;
    } catch {
      localUserName = process.env.USER ?? 'root';
    }
  }
  return localUserName;
}

/** A host whose settings forbid connecting: every call is unreachable with the reason. */
class RefusedConnection implements Connection {
  readonly kind = 'ssh' as const;
  constructor(private readonly reason: string) {}
  connect(): Promise<void> {
    return Promise.reject(new UnreachableError(this.reason));
  }
  exec(): Promise<never> {
    return Promise.reject(new UnreachableError(this.reason));
  }
  putFile(): Promise<void> {
    return Promise.reject(new UnreachableError(this.reason));
  }
  getFile(): Promise<never> {
    return Promise.reject(new UnreachableError(this.reason));
  }
  async close(): Promise<void> {}
}

// ansible_connection: ssh — one ssh2 connection per host, opened at the first
// connect() and reused for the whole run. Each exec is one channel (several may
// run at once); files go over one lazily opened SFTP session. A connection that
// fails or dies stays dead: every later call throws UnreachableError.
import { randomBytes } from 'node:crypto';
import { constants as osConstants } from 'node:os';
import { posix } from 'node:path';
import ssh2 from 'ssh2';
import type { Algorithms, Client, ClientChannel, SFTPWrapper } from 'ssh2';
import type { Duplex } from 'node:stream';
import { UnreachableError } from '../errors.js';
import { makeAuthHandler, type AuthSettings } from './auth.js';
import { BecomeError, ExecStreams } from './become.js';
import { REMOTE_SHELL_COMMAND, RemoteShell, ShellLost, unfitForShell } from './remote-shell.js';
import { isTimeout, TIMEOUT_GRACE_MS, withTimeoutNote } from './timeout.js';
import {
  appendKnownHost,
  checkHostKey,
  fingerprint,
  keyTypeOf,
  knownHostsName,
  knownKeyTypes,
  readKnownHosts,
} from './known-hosts.js';
import { shellQuote } from '../quote.js';
import type { Connection, ExecOptions, ExecResult } from './types.js';

/** One hop: the target, or a ProxyJump host in front of it. */
export interface SshEndpoint {
  /** address to connect to (after ssh config HostName) */
  host: string;
  port: number;
  user: string;
  /** the name looked up in known_hosts (HostKeyAlias, else host) */
  hostKeyName: string;
  auth: Omit<AuthSettings, 'user' | 'onDebug' | 'askPassword'>;
}

export interface SshSettings {
  target: SshEndpoint;
  /** ProxyJump hops, outermost first */
  jumps: SshEndpoint[];
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  /** user known_hosts files; new keys are appended to the first one */
  userKnownHostsFiles: string[];
  globalKnownHostsFiles: string[];
  acceptNew: boolean;
  /** the server's MaxSessions (OpenSSH default 10): exec channels beyond it wait their turn */
  maxSessions?: number;
  askPassword?: (prompt: string) => Promise<string>;
  onDebug?: (msg: string) => void;
}

// ssh2's host key algorithms; the ones known_hosts has for a host go first, as OpenSSH orders them.
const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];
const ALGOS_FOR_KEY_TYPE: Record<string, string[]> = { 'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] };

function endpointLabel(e: SshEndpoint): string {
  return `${e.user}@${e.host}${e.port === 22 ? '' : `:${e.port}`}`;
}

/**
 * Sends SIGKILL to the remote command (OpenSSH killpg()s the session). ssh2's
 * channel.signal() refuses once stdin is closed, which it always is here, so
 * this goes to the protocol object the channel itself would use.
 */
function sendKill(ch: ClientChannel): void {
  const internal = ch as unknown as {
    outgoing?: { id?: number; state?: string };
    _client?: { _protocol?: { signal?: (id: number, sig: string) => void } };
  };
  const id = internal.outgoing?.id;
  const proto = internal._client?._protocol;
  if (
    id === undefined ||
    !['open', 'eof'].includes(internal.outgoing?.state ?? '') ||
    typeof proto?.signal !== 'function'
  )
    return;
  try {
    proto.signal(id, 'KILL');
  } catch {
    // best effort: the channel is closed next anyway
  }
}

/** The server refused to open a channel (MaxSessions reached): worth a retry. */
class ChannelRefused extends Error {}
const CHANNEL_RETRIES = 50;
/** Remote shells per host (each holds a session slot); commands beyond them get exec channels. */
const MAX_SHELLS = 3;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** SFTP status codes from ssh2 (numeric `code` on the error). */
const SFTP_NO_SUCH_FILE = 2;
const SFTP_CHUNK = 32 * 1024;

/**
 * Closes a client's socket whatever its state. ssh2's destroy() does nothing once
 * end() was called (the socket is no longer writable), so a peer that never closes
 * its side (a host that accepts TCP and never speaks SSH) kept the process alive.
 */
function destroySocket(client: Client): void {
  (client as unknown as { _sock?: { destroy(): void } })._sock?.destroy();
}

/**
 * The task timeout's note, and sudo refusing to run the command (which is not
 * the command's own failure): the same reading for a channel and a shell.
 */
function noteTimeout(r: ExecResult, streams: ExecStreams, opts: ExecOptions, started: number): BecomeError | undefined {
  const hostTimedOut = isTimeout(opts.timeoutMs, started, r.rc);
  if (hostTimedOut) r.stderr = withTimeoutNote(r.stderr, opts.timeoutMs!);
  return streams.failure(r, hostTimedOut);
}

export class SshConnection implements Connection {
  readonly kind = 'ssh' as const;
  private client: Client | undefined;
  private readonly clients: Client[] = []; // jumps first, target last
  private connecting: Promise<void> | undefined;
  private deadReason: string | undefined;
  private closedByUs = false;
  private sftpSession: Promise<SFTPWrapper> | undefined;
  private readonly inflight = new Set<(e: Error) => void>();
  /** kill commands under way for aborted shell commands: close() lets them reach the host */
  private readonly killing = new Set<Promise<void>>();
  private readonly closed: Promise<void>[] = []; // one per client ever created
  // One session slot stays free for the SFTP channel.
  private readonly maxChannels: number;
  private openChannels = 0;
  private readonly channelWaiters: (() => void)[] = [];
  private readonly shells: RemoteShell[] = [];
  private readonly busyShells = new Set<RemoteShell>();
  private shellsOpening = 0;
  /** whether the host's shells can take stdin (base64 exists), once a shell has said */
  private shellStdinOk: boolean | undefined;
  /** the host cannot run a remote shell: every command gets its own exec channel */
  private shellUnsupported = false;

  constructor(private readonly s: SshSettings) {
    this.maxChannels = Math.max(1, (s.maxSessions ?? 10) - 1);
  }

  get label(): string {
    return endpointLabel(this.s.target);
  }

  connect(): Promise<void> {
    if (!this.connecting) {
      this.connecting = this.open().catch((e: unknown) => {
        this.endAll();
        const err =
          e instanceof UnreachableError ? e : new UnreachableError(`ssh ${this.label}: ${(e as Error).message}`);
        this.deadReason = err.message;
        throw err;
      });
    }
    return this.connecting;
  }

  private async open(): Promise<void> {
    let sock: Duplex | undefined;
    const hops = [...this.s.jumps, this.s.target];
    for (let i = 0; i < hops.length; i++) {
      const hop = hops[i];
      const via = i > 0 ? hops[i - 1] : undefined;
      const client = await this.openClient(hop, sock, via);
      this.clients.push(client);
      if (i < hops.length - 1) {
        const next = hops[i + 1];
        sock = await new Promise<Duplex>((res, rej) => {
          client.forwardOut('127.0.0.1', 0, next.host, next.port, (err, stream) => {
            if (err)
              rej(
                new UnreachableError(
                  `ssh ${endpointLabel(next)}: jump host ${endpointLabel(hop)} cannot reach ${next.host}:${next.port}: ${err.message}`,
                ),
              );
            else res(stream);
          });
        });
      }
    }
    this.client = this.clients[this.clients.length - 1];
  }

  private async openClient(hop: SshEndpoint, sock: Duplex | undefined, via: SshEndpoint | undefined): Promise<Client> {
    const label = endpointLabel(hop);
    const debug = this.s.onDebug;
    const entries = await readKnownHosts([...this.s.userKnownHostsFiles, ...this.s.globalKnownHostsFiles], debug);
    const name = knownHostsName(hop.hostKeyName, hop.port);
    const preferred = knownKeyTypes(entries, name).flatMap((t) => ALGOS_FOR_KEY_TYPE[t] ?? [t]);
    const serverHostKey = [
      ...new Set([...preferred.filter((a) => HOST_KEY_ALGORITHMS.includes(a)), ...HOST_KEY_ALGORITHMS]),
    ];

    return new Promise<Client>((resolve, reject) => {
      const client = new ssh2.Client();
      this.closed.push(new Promise<void>((res) => client.once('close', () => res())));
      let settled = false;
      let hostKeyProblem: string | undefined;
      let timer: NodeJS.Timeout | undefined;
      const fail = (msg: string) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        client.removeAllListeners('ready');
        client.on('error', () => {}); // late errors of a connection we gave up on
        client.end();
        destroySocket(client);
        reject(new UnreachableError(`ssh ${label}${via ? ` (via ${endpointLabel(via)})` : ''}: ${msg}`));
      };
      // Our own connect timeout covers TCP + handshake + auth, but not the time a
      // human takes to type a passphrase.
      const armTimer = () => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(
          () => fail(`connect timeout after ${this.s.connectTimeoutMs / 1000} s`),
          this.s.connectTimeoutMs,
        );
      };
      const askPassword = this.s.askPassword
        ? async (prompt: string) => {
            if (timer) clearTimeout(timer);
            try {
              return await this.s.askPassword!(prompt);
            } finally {
              if (!settled) armTimer();
            }
          }
        : undefined;
      const auth = makeAuthHandler({ ...hop.auth, user: hop.user, askPassword, onDebug: debug });

      client.on('ready', () => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        client.removeAllListeners('error');
        // From here on, losing any link of the chain loses the host.
        client.on('error', (e: Error) => this.markDead(`ssh ${this.label}: connection lost: ${e.message}`));
        client.on('end', () => this.markDead(`ssh ${this.label}: connection lost`));
        client.on('close', () => this.markDead(`ssh ${this.label}: connection lost`));
        debug?.(`ssh ${label}: connected`);
        resolve(client);
      });
      client.on('error', (e: Error & { level?: string; code?: string }) => {
        if (e.level === 'agent') {
          debug?.(`ssh ${label}: ssh-agent: ${e.message}`);
          return; // ssh2 goes on with the next method
        }
        if (hostKeyProblem) return fail(hostKeyProblem);
        if (e.code === 'ECONNREFUSED') return fail('connection refused');
        if (e.code === 'ETIMEDOUT') return fail('connect timeout');
        if (e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH') return fail(`no route to host (${e.code})`);
        if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return fail(`cannot resolve host name ${hop.host}`);
        if (e.level === 'client-authentication' && /All configured authentication methods failed/.test(e.message)) {
          const tried =
            auth.tried.length > 0 ? auth.tried.join(', ') : 'nothing: no agent, key file or password available';
          const skipped = auth.skipped();
          return fail(
            `permission denied (tried ${tried})${skipped.length > 0 ? `; not usable: ${skipped.join('; ')}` : ''}`,
          );
        }
        if (e.level === 'client-authentication') {
          debug?.(`ssh ${label}: ${e.message}`);
          return;
        }
        fail(e.message);
      });
      client.on('close', () => fail(hostKeyProblem ?? 'connection closed during handshake'));

      const algorithms: Algorithms = { serverHostKey: serverHostKey as Algorithms['serverHostKey'] };
      armTimer();
      client.connect({
        host: hop.host,
        port: hop.port,
        sock,
        username: hop.user,
        readyTimeout: 0, // our timer above
        keepaliveInterval: this.s.keepaliveIntervalMs,
        keepaliveCountMax: 3,
        algorithms,
        authHandler: auth.handler,
        hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
          this.verifyHostKey(hop, name, key, entries).then(
            (problem) => {
              hostKeyProblem = problem;
              verify(problem === undefined);
            },
            (e: unknown) => {
              hostKeyProblem = `cannot check the host key: ${(e as Error).message}`;
              verify(false);
            },
          );
        },
      });
      // Nagle + delayed ACK stalls each small exchange ~40 ms (measured by bench/),
      // twice in the handshake alone: send at once, from the first packet.
      client.setNoDelay(true);
    });
  }

  /** undefined when the key is trusted (or newly accepted), else why not. */
  private async verifyHostKey(
    hop: SshEndpoint,
    name: string,
    key: Buffer,
    entries: Awaited<ReturnType<typeof readKnownHosts>>,
  ): Promise<string | undefined> {
    const type = keyTypeOf(key);
    const fp = fingerprint(key);
    const v = checkHostKey(entries, name, key);
    switch (v.status) {
      case 'known':
        this.s.onDebug?.(`host key for ${name} (${type} ${fp}) found in ${v.entry.file}:${v.entry.line}`);
        return undefined;
      case 'revoked':
        return `the host key for ${name} (${type} ${fp}) is REVOKED in ${v.entry.file}:${v.entry.line}; refusing to connect`;
      case 'changed':
        return (
          `WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED for ${name}! Someone could be eavesdropping on you right now ` +
          `(possible man-in-the-middle attack), or the host key has just been changed. ` +
          `The server sent ${type} ${fp}; known_hosts has a different ${v.entry.keyType} key at ${v.entry.file}:${v.entry.line}. ` +
          `If the change is expected, remove that line (ssh-keygen -R '${name}') and verify the new key.`
        );
      case 'unknown': {
        if (v.otherTypes.length > 0) {
          const where = v.otherTypes.map((e) => `${e.keyType} at ${e.file}:${e.line}`).join(', ');
          return (
            `the server for ${name} offered a ${type} host key (${fp}) but known_hosts only has other key types for it (${where}); ` +
            `refusing: possible man-in-the-middle. Verify the key and update known_hosts`
          );
        }
        if (this.s.acceptNew) {
          const file = this.s.userKnownHostsFiles[0];
          if (!file)
            return `host key for ${name} is unknown (${type} ${fp}) and there is no user known_hosts file to add it to`;
          await appendKnownHost(file, name, key);
          this.s.onDebug?.(`permanently added ${name} (${type} ${fp}) to ${file}`);
          return undefined;
        }
        return `host key for ${name} is unknown (${type} ${fp}); verify it and add it to known_hosts, or run with --ssh-accept-new`;
      }
    }
  }

  private markDead(reason: string): void {
    if (this.deadReason) return;
    this.deadReason = this.closedByUs ? `connection to ${this.label} was closed` : reason;
    const err = new UnreachableError(this.deadReason);
    for (const rejectExec of this.inflight) rejectExec(err);
    this.inflight.clear();
    this.endAll();
  }

  private endAll(): void {
    for (const c of [...this.clients].reverse()) {
      c.on('error', () => {});
      c.end();
    }
  }

  private async live(): Promise<Client> {
    await this.connect();
    if (this.deadReason || !this.client)
      throw new UnreachableError(this.deadReason ?? `ssh ${this.label}: not connected`);
    return this.client;
  }

  /** Waits for a free session slot (sshd refuses channels beyond MaxSessions, default 10). */
  private async acquireChannel(): Promise<() => void> {
    while (this.openChannels >= this.maxChannels) await new Promise<void>((res) => this.channelWaiters.push(res));
    return this.takeChannel();
  }

  private takeChannel(): () => void {
    this.openChannels++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.openChannels--;
      this.channelWaiters.shift()?.();
    };
  }

  async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const client = await this.live();
    const shell = this.fitsShell(command, opts) ? await this.reserveShell(client) : undefined;
    if (shell) return this.execInShell(shell, command, opts);
    // sshd frees a session slot a moment after the channel closes, so a full
    // server may refuse a channel now and accept it shortly after.
    for (let attempt = 1; ; attempt++) {
      const release = await this.acquireChannel();
      try {
        return await this.execOnChannel(client, command, opts);
      } catch (e) {
        if (!(e instanceof ChannelRefused) || attempt >= CHANNEL_RETRIES)
          throw e instanceof ChannelRefused ? new Error(e.message) : e;
      } finally {
        release();
      }
      await sleep(Math.min(10 * attempt, 100));
    }
  }

  // ---- the remote shells (see remote-shell.ts) ----

  private fitsShell(command: string, opts: ExecOptions): boolean {
    if (this.shellUnsupported || (this.shellStdinOk === false && opts.stdin !== undefined)) return false;
    // sudo's password prompt is a conversation on the command's stdin: that needs a channel of its own
    if (opts.become?.password !== undefined) return false;
    return unfitForShell(command, opts.stdin) === undefined;
  }

  /** An idle shell, marked busy, or a new one while there are fewer than MAX_SHELLS; else undefined. */
  private async reserveShell(client: Client): Promise<RemoteShell | undefined> {
    for (let i = this.shells.length - 1; i >= 0; i--) if (this.shells[i].ended) this.shells.splice(i, 1);
    const idle = this.shells.find((sh) => !this.busyShells.has(sh));
    if (idle) {
      this.busyShells.add(idle);
      return idle;
    }
    if (this.shells.length + this.shellsOpening >= MAX_SHELLS || this.openChannels >= this.maxChannels)
      return undefined;
    this.shellsOpening++;
    try {
      return await this.openShell(client);
    } finally {
      this.shellsOpening--;
    }
  }

  private async openShell(client: Client): Promise<RemoteShell | undefined> {
    const release = this.takeChannel();
    const ch = await new Promise<ClientChannel | undefined>((res) =>
      client.exec(REMOTE_SHELL_COMMAND, (err, c) => res(err ? undefined : c)),
    );
    if (!ch) {
      release(); // refused (sshd's MaxSessions, say): this command takes the channel path
      return undefined;
    }
    ch.on('close', release);
    const shell = await RemoteShell.start(ch, this.s.connectTimeoutMs);
    if (!shell) {
      if (!this.deadReason) {
        this.shellUnsupported = true;
        this.s.onDebug?.(`ssh ${this.label}: ${REMOTE_SHELL_COMMAND} does not answer: one exec channel per command`);
      }
      return undefined;
    }
    this.busyShells.add(shell); // the caller's, before any other exec can see it in the pool
    this.shellStdinOk = shell.canFeedStdin;
    this.shells.push(shell);
    this.s.onDebug?.(
      `ssh ${this.label}: remote shell ${this.shells.length} started${shell.canFeedStdin ? '' : ' (no base64: commands with stdin get exec channels)'}`,
    );
    return shell;
  }

  private async execInShell(shell: RemoteShell, command: string, opts: ExecOptions): Promise<ExecResult> {
    try {
      if (opts.stdin !== undefined && !shell.canFeedStdin) return await this.exec(command, opts);
      if (this.deadReason) throw new UnreachableError(this.deadReason);
      this.s.onDebug?.(`ssh ${this.label}: exec ${command}`);
      const started = Date.now();
      return await new Promise<ExecResult>((resolve, reject) => {
        // Ending the shell is all there is to stop a command in it (as with a channel, OpenSSH
        // ignores signals for root; the command line's own `timeout` is what really kills it).
        const { finish, setTimer, done } = this.settleOnce(opts, reject, () => {
          this.killShellSession(shell);
          shell.close();
        });
        if (done()) return;
        if (opts.timeoutMs) {
          // a backstop: the command line's own `timeout` (see buildCommand) kills it on the host
          setTimer(() => {
            shell.close();
            finish(() =>
              resolve({ rc: 128 + 9, stdout: '', stderr: withTimeoutNote('', opts.timeoutMs!), signal: 'SIGKILL' }),
            );
          }, opts.timeoutMs + TIMEOUT_GRACE_MS);
        }
        shell.run(command, opts.stdin).then(
          (raw) => {
            // the same reading of the output as on a channel: sudo's marker, a refusal, a timeout
            const streams = new ExecStreams(undefined, opts.become, { write: () => {}, end: () => {}, fail: () => {} });
            streams.onStdout(raw.stdout);
            streams.onStderr(raw.stderr);
            const r: ExecResult = { rc: raw.rc, ...streams.output() };
            const become = noteTimeout(r, streams, opts, started);
            finish(() => (become ? reject(become) : resolve(r)));
          },
          (e: unknown) => {
            if (!(e instanceof ShellLost)) return finish(() => reject(e as Error));
            // as a channel that closes without an exit status: the link may be going away
            setImmediate(() =>
              finish(() =>
                this.deadReason
                  ? reject(new UnreachableError(this.deadReason))
                  : resolve({ rc: 255, stdout: '', stderr: `ssh: ${e.message}` }),
              ),
            );
          },
        );
      });
    } finally {
      this.busyShells.delete(shell);
    }
  }

  /**
   * Ends, on the host, what an aborted command of a shell started: closing the
   * channel does not stop a running command (sh only reads EOF once it is done).
   * The shell leads its own session, so its session goes: sh, the command and its
   * children (a `timeout` that made a process group of its own too).
   */
  private killShellSession(shell: RemoteShell): void {
    const pid = shell.pid;
    const client = this.client;
    if (pid === undefined || !client || this.deadReason) return;
    const killing = new Promise<void>((done) => {
      try {
        client.exec(`pkill -KILL -s ${pid} || kill -KILL -- -${pid}`, (err, ch) => {
          if (err) return done();
          ch.on('close', () => done());
          ch.resume();
          ch.stderr.resume();
        });
      } catch {
        done(); // the connection is going away: nothing more to do
      }
    });
    this.killing.add(killing);
    void killing.then(() => this.killing.delete(killing));
  }

  /**
   * How one exec ends, exactly once, whatever comes first: its result, its
   * timer, the caller's abort (which runs `stop` first) or the connection
   * dying. `done()` is already true when the signal had aborted before.
   */
  private settleOnce(opts: ExecOptions, reject: (e: Error) => void, stop: () => void) {
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      this.inflight.delete(onDead);
      fn();
    };
    const onDead = (e: Error) => finish(() => reject(e));
    const onAbort = () => {
      stop();
      const reason: unknown = opts.signal?.reason;
      finish(() =>
        reject(
          reason instanceof Error
            ? reason
            : Object.assign(new Error('The operation was aborted'), { name: 'AbortError' }),
        ),
      );
    };
    if (opts.signal?.aborted) onAbort();
    else {
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.inflight.add(onDead);
    }
    return {
      finish,
      /** (re)arms the one timer of this exec */
      setTimer: (fn: () => void, ms: number) => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(fn, ms);
      },
      done: () => done,
    };
  }

  private async execOnChannel(client: Client, command: string, opts: ExecOptions): Promise<ExecResult> {
    if (this.deadReason) throw new UnreachableError(this.deadReason);
    this.s.onDebug?.(`ssh ${this.label}: exec ${command}`);
    const started = Date.now();
    return new Promise<ExecResult>((resolve, reject) => {
      let stream: ClientChannel | undefined;
      let timedOut = false;
      const stopRemote = () => {
        if (!stream) return;
        sendKill(stream);
        stream.close();
      };
      const { finish, setTimer, done } = this.settleOnce(opts, reject, stopRemote);
      if (done()) return;

      client.exec(command, (err, ch) => {
        if (err) {
          return finish(() =>
            reject(
              this.deadReason
                ? new UnreachableError(this.deadReason)
                : new ChannelRefused(`ssh ${this.label}: cannot start command: ${err.message}`),
            ),
          );
        }
        if (done()) {
          ch.close();
          return;
        }
        stream = ch;
        const streams = new ExecStreams(opts.stdin, opts.become, {
          write: (d) => ch.write(d),
          end: (d) => ch.end(d),
          fail: (e) => {
            stopRemote();
            finish(() => reject(e));
          },
        });
        let exit: { code: number | null; signal?: string } | undefined;
        ch.on('data', (d: Buffer) => streams.onStdout(d));
        ch.stderr.on('data', (d: Buffer) => streams.onStderr(d));
        ch.on('exit', (code: number | null, signal?: string) => {
          exit = { code, signal };
        });
        ch.on('error', () => {}); // reported through close / the connection
        ch.on('close', () => {
          const { stdout, stderr } = streams.output();
          if (timedOut)
            return finish(() =>
              resolve({ rc: 128 + 9, stdout, stderr: withTimeoutNote(stderr, opts.timeoutMs!), signal: 'SIGKILL' }),
            );
          if (!exit) {
            // the channel closed without an exit status: the link went away
            return setImmediate(() =>
              finish(() =>
                this.deadReason
                  ? reject(new UnreachableError(this.deadReason))
                  : resolve({ rc: 255, stdout, stderr: stderr || 'ssh: channel closed without an exit status' }),
              ),
            );
          }
          let r: ExecResult;
          if (exit.code === null || exit.code === undefined) {
            const sig = `SIG${(exit.signal ?? 'KILL').replace(/^SIG/, '')}`;
            const n = (osConstants.signals as Record<string, number>)[sig] ?? 9;
            r = { rc: 128 + n, stdout, stderr, signal: sig };
          } else {
            r = { rc: exit.code, stdout, stderr };
          }
          const become = noteTimeout(r, streams, opts, started);
          finish(() => (become ? reject(become) : resolve(r)));
        });
        if (opts.timeoutMs) {
          // a backstop: the command line's own `timeout` (see buildCommand) kills it on the host
          setTimer(() => {
            timedOut = true;
            stopRemote();
            // a server that ignores the signal keeps the channel until the command ends: do not wait for it
            setTimer(() => ch.emit('close'), 1000);
          }, opts.timeoutMs + TIMEOUT_GRACE_MS);
        }
        streams.start();
      });
    });
  }

  private sftp(client: Client): Promise<SFTPWrapper> {
    if (!this.sftpSession) {
      this.sftpSession = new Promise<SFTPWrapper>((res, rej) => {
        let attempt = 0;
        const tryOpen = () =>
          client.sftp((err, sftp) => {
            if (err) {
              if (!this.deadReason && ++attempt < CHANNEL_RETRIES)
                return void setTimeout(tryOpen, Math.min(10 * attempt, 100));
              this.sftpSession = undefined; // not a dead link: let a later call try again
              rej(
                this.deadReason
                  ? new UnreachableError(this.deadReason)
                  : new Error(`ssh ${this.label}: cannot open SFTP session: ${err.message}`),
              );
            } else {
              sftp.on('close', () => {
                this.sftpSession = undefined;
              });
              res(sftp);
            }
          });
        tryOpen();
      });
    }
    return this.sftpSession;
  }

  /** Runs an SFTP operation, turning a lost link into UnreachableError. */
  private async withSftp<T>(op: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
    const sftp = await this.sftp(await this.live());
    return new Promise<T>((resolve, reject) => {
      const onDead = (e: Error) => reject(e);
      this.inflight.add(onDead);
      op(sftp).then(
        (v) => {
          this.inflight.delete(onDead);
          resolve(v);
        },
        (e: unknown) => {
          this.inflight.delete(onDead);
          reject(this.deadReason ? new UnreachableError(this.deadReason) : e);
        },
      );
    });
  }

  async putFile(path: string, data: Buffer, opts: { mode?: number } = {}): Promise<void> {
    const mode = opts.mode ?? 0o644;
    const dir = posix.dirname(path);
    const tmp = posix.join(dir, `.${posix.basename(path)}.phx-${randomBytes(6).toString('hex')}`);
    const attempt = () =>
      this.withSftp(async (sftp) => {
        const handle = await new Promise<Buffer>((res, rej) =>
          sftp.open(tmp, 'wx', { mode }, (e, h) => (e ? rej(e) : res(h))),
        );
        // write, chmod (the umask applied to open), close and rename are
        // pipelined: the server handles them in order, we wait once.
        const steps: Promise<void>[] = [];
        const step = (fn: (cb: (e?: Error | null) => void) => void) =>
          steps.push(new Promise<void>((res, rej) => fn((e) => (e ? rej(e) : res()))));
        // Chunks no bigger than any server's packet limit, so ssh2 never splits
        // one (it would send the rest only after the first answer, after our close).
        for (let off = 0; off < data.length; off += SFTP_CHUNK) {
          const len = Math.min(SFTP_CHUNK, data.length - off);
          step((cb) => sftp.write(handle, data, off, len, off, cb));
        }
        step((cb) => sftp.fchmod(handle, mode, cb));
        step((cb) => sftp.close(handle, cb));
        step((cb) => sftp.ext_openssh_rename(tmp, path, cb));
        const results = await Promise.allSettled(steps);
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) {
          await new Promise<void>((res) => sftp.unlink(tmp, () => res()));
          throw failed.reason;
        }
      });
    try {
      await attempt();
    } catch (e) {
      if ((e as { code?: number }).code !== SFTP_NO_SUCH_FILE) throw this.fileError('write', path, e);
      // the directory is missing: create it like the local connection does, then retry once
      const r = await this.exec(`mkdir -p -- ${shellQuote(dir)}`);
      if (r.rc !== 0) throw this.fileError('write', path, new Error(r.stderr.trim() || `mkdir rc ${r.rc}`));
      await attempt().catch((e2: unknown) => {
        throw this.fileError('write', path, e2);
      });
    }
  }

  async getFile(path: string): Promise<Buffer | null> {
    try {
      return await this.withSftp(
        (sftp) => new Promise<Buffer>((res, rej) => sftp.readFile(path, (e, buf) => (e ? rej(e) : res(buf)))),
      );
    } catch (e) {
      if ((e as { code?: number }).code === SFTP_NO_SUCH_FILE) return null;
      throw this.fileError('read', path, e);
    }
  }

  private fileError(what: string, path: string, e: unknown): Error {
    if (e instanceof UnreachableError) return e;
    return new Error(`ssh ${this.label}: cannot ${what} ${path}: ${(e as Error).message}`);
  }

  async close(): Promise<void> {
    this.closedByUs = true;
    if (this.killing.size > 0)
      await Promise.race([Promise.all(this.killing), new Promise<void>((res) => setTimeout(res, 2000).unref())]);
    if (!this.deadReason) this.markDead(`connection to ${this.label} was closed`);
    this.endAll();
    const all = Promise.all(this.closed);
    const timeout = new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), 2000).unref());
    if ((await Promise.race([all, timeout])) === 'timeout') for (const c of this.clients) destroySocket(c);
  }
}

// The SSH link to one host: TCP (through ProxyJump hops when there are any),
// the handshake with host key checking and authentication, and the link's life.
// It is opened at the first connect() and reused for the whole run; once it
// fails or dies it stays dead, and all work waiting on it is told at once.
import type { Algorithms, Client, ConnectConfig } from 'ssh2';
import { connect as tcpConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { UnreachableError } from '../errors.js';
import { makeAuthHandler, type AuthSettings, type AuthState } from './auth.js';
import { knownHostsName, readKnownHosts, type KnownHostEntry } from './known-hosts.js';
import { serverHostKeyAlgorithms, verifyHostKey } from './ssh-host-key.js';
import { loadSsh2, type Ssh2 } from './ssh2-module.js';
import { destroySocket, ignoreHostKeyAnnouncements } from './ssh2-internals.js';

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

export function endpointLabel(e: SshEndpoint): string {
  return `${e.user}@${e.host}${e.port === 22 ? '' : `:${e.port}`}`;
}

/** What the parts working over the link (exec, shells, SFTP) need to know of it. */
export interface SshLink {
  readonly label: string;
  /** why the link is gone, once it is (then every call fails with UnreachableError) */
  readonly deadReason: string | undefined;
  /** Calls onLost if the link dies before the returned function is called. */
  whenLost(onLost: (e: Error) => void): () => void;
  debug(msg: string): void;
}

export class SshTransport implements SshLink {
  private client: Client | undefined;
  private readonly clients: Client[] = []; // jumps first, target last
  private connecting: Promise<void> | undefined;
  private dead: string | undefined;
  private closedByUs = false;
  private readonly inflight = new Set<(e: Error) => void>();
  private readonly closed: Promise<void>[] = []; // one per client ever created

  constructor(private readonly s: SshSettings) {}

  get label(): string {
    return endpointLabel(this.s.target);
  }

  get deadReason(): string | undefined {
    return this.dead;
  }

  debug(msg: string): void {
    this.s.onDebug?.(msg);
  }

  whenLost(onLost: (e: Error) => void): () => void {
    this.inflight.add(onLost);
    return () => this.inflight.delete(onLost);
  }

  connect(): Promise<void> {
    if (!this.connecting) {
      this.connecting = this.openChain().catch((e: unknown) => {
        this.endAll();
        const err =
          e instanceof UnreachableError ? e : new UnreachableError(`ssh ${this.label}: ${(e as Error).message}`);
        this.dead = err.message;
        throw err;
      });
    }
    return this.connecting;
  }

  /** The target's client, connecting first if need be; UnreachableError once the link is dead. */
  async live(): Promise<Client> {
    await this.connect();
    if (this.dead || !this.client) throw new UnreachableError(this.dead ?? `ssh ${this.label}: not connected`);
    return this.client;
  }

  async close(): Promise<void> {
    this.closedByUs = true;
    if (!this.dead) this.markDead(`connection to ${this.label} was closed`);
    this.endAll();
    const all = Promise.all(this.closed);
    const timeout = new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), 2000).unref());
    if ((await Promise.race([all, timeout])) === 'timeout') for (const c of this.clients) destroySocket(c);
  }

  /** Each hop's client carries the next hop's TCP stream (forwardOut); the last one is the target. */
  private async openChain(): Promise<void> {
    let sock: Duplex | undefined;
    const hops = [...this.s.jumps, this.s.target];
    for (let i = 0; i < hops.length; i++) {
      const client = await this.openHop(hops[i], sock, i > 0 ? hops[i - 1] : undefined);
      this.clients.push(client);
      if (i < hops.length - 1) sock = await forwardTo(client, hops[i], hops[i + 1]);
    }
    this.client = this.clients[this.clients.length - 1];
  }

  private async openHop(hop: SshEndpoint, sock: Duplex | undefined, via: SshEndpoint | undefined): Promise<Client> {
    const label = endpointLabel(hop);
    const debug = this.s.onDebug;
    // TCP first: the host's sshd accepts and starts its side while known_hosts is read and,
    // on the run's first connection, ssh2 is loaded (~20 ms of this process).
    const tcp = sock === undefined ? openTcp(hop) : undefined;
    let entries: KnownHostEntry[];
    let ssh2: Ssh2;
    try {
      entries = await readKnownHosts([...this.s.userKnownHostsFiles, ...this.s.globalKnownHostsFiles], debug);
      ssh2 = await loadSsh2();
    } catch (e) {
      tcp?.socket.destroy();
      throw e;
    }
    const name = knownHostsName(hop.hostKeyName, hop.port);
    if (tcp?.error) {
      // it failed before ssh2 took the socket: ssh2 would not hear of it
      tcp.socket.destroy();
      throw new UnreachableError(`ssh ${label}: ${tcpFailure(tcp.error, hop) ?? tcp.error.message}`);
    }

    return new Promise<Client>((resolve, reject) => {
      const client = new ssh2.Client();
      this.closed.push(new Promise<void>((res) => client.once('close', () => res())));
      let settled = false;
      let hostKeyProblem: string | undefined;
      const fail = (msg: string) => {
        if (settled) return;
        settled = true;
        timer.stop();
        client.removeAllListeners('ready');
        client.on('error', () => {}); // late errors of a connection we gave up on
        client.end();
        destroySocket(client);
        reject(new UnreachableError(`ssh ${label}${via ? ` (via ${endpointLabel(via)})` : ''}: ${msg}`));
      };
      const timer = new ConnectTimer(this.s.connectTimeoutMs, fail);
      const askPassword = this.s.askPassword && timer.pausedDuring(this.s.askPassword, () => settled);
      const auth = makeAuthHandler({ ...hop.auth, user: hop.user, askPassword, onDebug: debug });

      client.on('ready', () => {
        if (settled) return;
        settled = true;
        timer.stop();
        this.watchEstablished(client);
        debug?.(`ssh ${label}: connected`);
        resolve(client);
      });
      client.on('error', (e: HandshakeError) => {
        if (hostKeyProblem && e.level !== 'agent') return fail(hostKeyProblem);
        const failure = handshakeFailure(e, hop, auth);
        if (failure === undefined) debug?.(`ssh ${label}: ${e.level === 'agent' ? 'ssh-agent: ' : ''}${e.message}`);
        else fail(failure);
      });
      client.on('close', () => fail(hostKeyProblem ?? 'connection closed during handshake'));

      timer.arm();
      client.connect({
        ...this.connectConfig(hop, sock ?? tcp?.socket, entries, name, (problem) => (hostKeyProblem = problem)),
        authHandler: auth.handler,
      });
      ignoreHostKeyAnnouncements(client);
      // Nagle + delayed ACK stalls each small exchange ~40 ms (measured by bench/),
      // twice in the handshake alone: send at once, from the first packet.
      client.setNoDelay(true);
    });
  }

  /** ssh2's settings for one hop; the host verifier reports why a key was refused through onHostKeyProblem. */
  private connectConfig(
    hop: SshEndpoint,
    sock: Duplex | undefined,
    entries: KnownHostEntry[],
    name: string,
    onHostKeyProblem: (problem: string | undefined) => void,
  ): ConnectConfig {
    const serverHostKey = serverHostKeyAlgorithms(entries, name) as Algorithms['serverHostKey'];
    return {
      host: hop.host,
      port: hop.port,
      sock,
      username: hop.user,
      readyTimeout: 0, // our ConnectTimer
      keepaliveInterval: this.s.keepaliveIntervalMs,
      keepaliveCountMax: 3,
      algorithms: { serverHostKey },
      hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
        verifyHostKey(this.s, name, key, entries).then(
          (problem) => {
            onHostKeyProblem(problem);
            verify(problem === undefined);
          },
          (e: unknown) => {
            onHostKeyProblem(`cannot check the host key: ${(e as Error).message}`);
            verify(false);
          },
        );
      },
    };
  }

  /** From here on, losing any link of the chain loses the host. */
  private watchEstablished(client: Client): void {
    client.removeAllListeners('error');
    client.on('error', (e: Error) => this.markDead(`ssh ${this.label}: connection lost: ${e.message}`));
    client.on('end', () => this.markDead(`ssh ${this.label}: connection lost`));
    client.on('close', () => this.markDead(`ssh ${this.label}: connection lost`));
  }

  private markDead(reason: string): void {
    if (this.dead) return;
    this.dead = this.closedByUs ? `connection to ${this.label} was closed` : reason;
    const err = new UnreachableError(this.dead);
    for (const rejectWork of this.inflight) rejectWork(err);
    this.inflight.clear();
    this.endAll();
  }

  private endAll(): void {
    for (const c of [...this.clients].reverse()) {
      c.on('error', () => {});
      c.end();
    }
  }
}

type HandshakeError = Error & { level?: string; code?: string };

/**
 * Why connecting failed, in words, for an error ssh2 reports during the handshake;
 * undefined for the errors ssh2 gets over by itself (it goes on with the next
 * auth method), which are only worth a debug line.
 */
function handshakeFailure(e: HandshakeError, hop: SshEndpoint, auth: AuthState): string | undefined {
  if (e.level === 'agent') return undefined;
  const tcp = tcpFailure(e, hop);
  if (tcp !== undefined) return tcp;
  if (e.level === 'client-authentication' && /All configured authentication methods failed/.test(e.message)) {
    const tried = auth.tried.length > 0 ? auth.tried.join(', ') : 'nothing: no agent, key file or password available';
    const skipped = auth.skipped();
    return `permission denied (tried ${tried})${skipped.length > 0 ? `; not usable: ${skipped.join('; ')}` : ''}`;
  }
  if (e.level === 'client-authentication') return undefined;
  return e.message;
}

/** Why a TCP connection failed, in words, for the errors that have a usual name. */
function tcpFailure(e: HandshakeError, hop: SshEndpoint): string | undefined {
  if (e.code === 'ECONNREFUSED') return 'connection refused';
  if (e.code === 'ETIMEDOUT') return 'connect timeout';
  if (e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH') return `no route to host (${e.code})`;
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return `cannot resolve host name ${hop.host}`;
  return undefined;
}

/** A TCP connection being opened to a hop; `error` is what happened to it before ssh2 took it. */
interface EarlyTcp {
  socket: Socket;
  error?: HandshakeError;
}

/** Starts the TCP connection to a hop (ssh2 takes the socket, connected or still connecting). */
function openTcp(hop: SshEndpoint): EarlyTcp {
  const tcp: EarlyTcp = { socket: tcpConnect({ host: hop.host, port: hop.port, noDelay: true }) };
  tcp.socket.on('error', (e: HandshakeError) => (tcp.error ??= e));
  return tcp;
}

/** A tunnel from `client` (the hop `via`) to the next hop's address. */
function forwardTo(client: Client, via: SshEndpoint, next: SshEndpoint): Promise<Duplex> {
  return new Promise<Duplex>((res, rej) => {
    client.forwardOut('127.0.0.1', 0, next.host, next.port, (err, stream) => {
      if (err)
        rej(
          new UnreachableError(
            `ssh ${endpointLabel(next)}: jump host ${endpointLabel(via)} cannot reach ${next.host}:${next.port}: ${err.message}`,
          ),
        );
      else res(stream);
    });
  });
}

/** Our own connect timeout covers TCP + handshake + auth, but not the time a human takes to type a passphrase. */
class ConnectTimer {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ms: number,
    private readonly onTimeout: (msg: string) => void,
  ) {}

  arm(): void {
    this.stop();
    this.timer = setTimeout(() => this.onTimeout(`connect timeout after ${this.ms / 1000} s`), this.ms);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  /** `ask` with the timer stopped while it waits for the human; re-armed unless the attempt is over. */
  pausedDuring(ask: (prompt: string) => Promise<string>, over: () => boolean): (prompt: string) => Promise<string> {
    return async (prompt) => {
      this.stop();
      try {
        return await ask(prompt);
      } finally {
        if (!over()) this.arm();
      }
    };
  }
}

// The remote shells of one SSH connection (see remote-shell.ts): up to
// MAX_SHELLS long-lived /bin/sh per host, each serving one command at a time.
// The pool says which commands a shell can take, hands out an idle shell or
// starts a new one while a session slot is free, and runs a command in it with
// the same ending rules as an exec channel (ssh-exec.ts settleOnce).
import type { Client, ClientChannel } from 'ssh2';
import { UnreachableError } from '../errors.js';
import { ExecStreams } from './become.js';
import { REMOTE_SHELL_COMMAND, RemoteShell, ShellLost, unfitForShell } from './remote-shell.js';
import type { ChannelSlots } from './ssh-channels.js';
import { noteTimeout, settleOnce } from './ssh-exec.js';
import type { SshLink } from './ssh-transport.js';
import { TIMEOUT_GRACE_MS, withTimeoutNote } from './timeout.js';
import type { ExecOptions, ExecResult } from './types.js';

/** Remote shells per host (each holds a session slot); commands beyond them get exec channels. */
const MAX_SHELLS = 3;

export class ShellPool {
  private readonly shells: RemoteShell[] = [];
  private readonly busyShells = new Set<RemoteShell>();
  private shellsOpening = 0;
  /** whether the host's shells can take stdin (base64 exists), once a shell has said */
  private shellStdinOk: boolean | undefined;
  /** the host cannot run a remote shell: every command gets its own exec channel */
  private shellUnsupported = false;
  /** the client each shell runs on: an aborted command's session is killed over it */
  private readonly clientOf = new WeakMap<RemoteShell, Client>();
  /** kill commands under way for aborted shell commands: close() lets them reach the host */
  private readonly killing = new Set<Promise<void>>();

  constructor(
    private readonly link: SshLink,
    private readonly slots: ChannelSlots,
    private readonly connectTimeoutMs: number,
  ) {}

  /** Whether a shell can run this command (as far as is known before one is reserved). */
  fits(command: string, opts: ExecOptions): boolean {
    if (this.shellUnsupported || (this.shellStdinOk === false && opts.stdin !== undefined)) return false;
    // sudo's password prompt is a conversation on the command's stdin: that needs a channel of its own
    if (opts.become?.password !== undefined) return false;
    return unfitForShell(command, opts.stdin) === undefined;
  }

  /** An idle shell, marked busy, or a new one while there are fewer than MAX_SHELLS; else undefined. */
  async reserve(client: Client): Promise<RemoteShell | undefined> {
    for (let i = this.shells.length - 1; i >= 0; i--) if (this.shells[i].ended) this.shells.splice(i, 1);
    const idle = this.shells.find((sh) => !this.busyShells.has(sh));
    if (idle) {
      this.busyShells.add(idle);
      return idle;
    }
    if (this.shells.length + this.shellsOpening >= MAX_SHELLS || this.slots.full) return undefined;
    this.shellsOpening++;
    try {
      return await this.open(client);
    } finally {
      this.shellsOpening--;
    }
  }

  private async open(client: Client): Promise<RemoteShell | undefined> {
    const release = this.slots.take();
    const ch = await new Promise<ClientChannel | undefined>((res) =>
      client.exec(REMOTE_SHELL_COMMAND, (err, c) => res(err ? undefined : c)),
    );
    if (!ch) {
      release(); // refused (sshd's MaxSessions, say): this command takes the channel path
      return undefined;
    }
    ch.on('close', release);
    const shell = await RemoteShell.start(ch, this.connectTimeoutMs);
    if (!shell) {
      if (!this.link.deadReason) {
        this.shellUnsupported = true;
        this.link.debug(
          `ssh ${this.link.label}: ${REMOTE_SHELL_COMMAND} does not answer: one exec channel per command`,
        );
      }
      return undefined;
    }
    this.clientOf.set(shell, client);
    this.busyShells.add(shell); // the caller's, before any other exec can see it in the pool
    this.shellStdinOk = shell.canFeedStdin;
    this.shells.push(shell);
    this.link.debug(
      `ssh ${this.link.label}: remote shell ${this.shells.length} started${shell.canFeedStdin ? '' : ' (no base64: commands with stdin get exec channels)'}`,
    );
    return shell;
  }

  /**
   * Runs a command in a shell reserve() gave out, and hands the shell back.
   * A command with stdin that this shell cannot feed runs through `onChannel` instead.
   */
  async run(
    shell: RemoteShell,
    command: string,
    opts: ExecOptions,
    onChannel: () => Promise<ExecResult>,
  ): Promise<ExecResult> {
    try {
      if (opts.stdin !== undefined && !shell.canFeedStdin) return await onChannel();
      if (this.link.deadReason) throw new UnreachableError(this.link.deadReason);
      this.link.debug(`ssh ${this.link.label}: exec ${command}`);
      return await this.runInShell(shell, command, opts);
    } finally {
      this.busyShells.delete(shell);
    }
  }

  /**
   * Ends, on the host, what an aborted command of a shell started. The shell leads
   * its own session, so its session goes: sh, the command and its children (a
   * `timeout` that made a process group of its own too).
   */
  private killSession(shell: RemoteShell): void {
    const pid = shell.pid;
    const client = this.clientOf.get(shell);
    if (pid === undefined || !client || this.link.deadReason) return;
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

  /** Waits (at most 2 s) for the kills of aborted commands to reach the host. */
  async settleKills(): Promise<void> {
    if (this.killing.size === 0) return;
    await Promise.race([Promise.all(this.killing), new Promise<void>((res) => setTimeout(res, 2000).unref())]);
  }

  private runInShell(shell: RemoteShell, command: string, opts: ExecOptions): Promise<ExecResult> {
    const started = Date.now();
    return new Promise<ExecResult>((resolve, reject: (e: Error) => void) => {
      // Closing the channel does not stop a running command (sh reads EOF only once it is done):
      // an abort also kills the shell's session on the host.
      const { finish, setTimer, done } = settleOnce(this.link, opts, reject, () => {
        this.killSession(shell);
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
      shell.run(command, opts.stdin, opts.ownScript ? (opts.ownLocals ?? true) : false).then(
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
              this.link.deadReason
                ? reject(new UnreachableError(this.link.deadReason))
                : resolve({ rc: 255, stdout: '', stderr: `ssh: ${e.message}` }),
            ),
          );
        },
      );
    });
  }
}

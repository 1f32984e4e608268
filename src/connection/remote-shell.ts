// One long-lived /bin/sh on the host, fed command after command over a single
// SSH channel. A fresh exec channel costs the host a session fork and a login
// shell start for every command (~2 ms of host CPU on a quiet machine, ~8 ms
// with a 2 kB script through bash); here a command costs one fork of a
// subshell. Each command runs in `( eval '…' )`, so its cd, exports, umask and
// `exit` stay its own, with stdin from /dev/null (or its own bytes, see
// below), and is followed by a per-command end marker (the shell's random
// prefix and a count) on stdout (with the exit status) and on stderr. Everything before the markers is the
// command's output, byte for byte. phx-play's own scripts (probes, batches)
// may instead run in the shell's own process, their variables local to a
// function (same-shell.ts): no fork at all.
//
// /bin/sh, not the login shell: it is what Ansible runs modules' commands
// with, what our command lines are written for, and dash reads its script in
// blocks, where bash reads a pipe one byte per system call (measured: 2 ms vs
// 5.5 ms for a 2 kB command).
import { randomBytes } from 'node:crypto';
import type { ClientChannel } from 'ssh2';
import { shellQuote } from '../quote.js';
import { OWN_SCRIPT_FUNCTION, fitsSameShell, sameShellLocals } from './same-shell.js';

/** What came back from one command: raw, for the connection to interpret. */
export interface ShellOutput {
  rc: number;
  stdout: Buffer;
  stderr: Buffer;
}

/** The channel command: the login shell hands over to sh reading commands from stdin. */
export const REMOTE_SHELL_COMMAND = 'exec /bin/sh -s';

/** Bigger stdin goes over an exec channel of its own (here it travels as base64 text through sh's parser). */
export const MAX_SHELL_STDIN = 1024 * 1024;

/** Why a command cannot go through the shell, or undefined when it can. */
export function unfitForShell(command: string, stdin: string | Buffer | undefined): string | undefined {
  if (command.includes('\0')) return 'the command contains a NUL byte';
  if (stdin !== undefined && Buffer.byteLength(stdin) > MAX_SHELL_STDIN) return 'stdin larger than 1 MiB';
  return undefined;
}

/** Thrown when the shell went away mid-command: the command may or may not have run. */
export class ShellLost extends Error {}

/** Finds `marker` in a stream arriving in chunks, keeping the bytes before it. */
class MarkedStream {
  private readonly chunks: Buffer[] = [];
  private length = 0;
  /** where the marker starts in the concatenated stream, once seen */
  private at = -1;
  private tail = Buffer.alloc(0);

  constructor(private readonly marker: Buffer) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
    if (this.at >= 0) return;
    // search the end of what came before plus this chunk: a marker may straddle two chunks
    const window = Buffer.concat([this.tail, chunk]);
    const i = window.indexOf(this.marker);
    if (i >= 0) this.at = this.length - window.length + i;
    else this.tail = window.subarray(Math.max(0, window.length - this.marker.length + 1));
  }

  get found(): boolean {
    return this.at >= 0;
  }

  /** the bytes before the marker */
  before(): Buffer {
    return Buffer.concat(this.chunks).subarray(0, this.at);
  }

  /** the bytes after the marker (the exit status line on stdout) */
  after(): string {
    return Buffer.concat(this.chunks)
      .subarray(this.at + this.marker.length)
      .toString('latin1');
  }
}

interface Pending {
  out: MarkedStream;
  err: MarkedStream;
  resolve(o: ShellOutput): void;
  reject(e: Error): void;
}

export class RemoteShell {
  private pending: Pending | undefined;
  private closed = false;

  /** base64 exists on the host, so commands may have stdin (learnt in start()) */
  private stdinOk = false;
  /** sh's process id on the host (learnt in start()): it leads the session every command runs in */
  private shellPid: number | undefined;
  /** the shell runs OWN_SCRIPT_FUNCTION as it should (it has `local`; learnt in start()) */
  private ownScriptsOk = false;
  /**
   * End markers are this shell's random prefix and a count: what a command prints (a file it
   * cats, say) cannot know the prefix, and one random draw per shell, not per command, is cheaper.
   */
  private readonly markerPrefix = randomBytes(9).toString('hex');
  private commandCount = 0;

  private constructor(private readonly channel: ClientChannel) {
    channel.on('data', (d: Buffer) => this.onData('out', d));
    channel.stderr.on('data', (d: Buffer) => this.onData('err', d));
    channel.on('error', () => {}); // reported through close / the connection
    channel.on('close', () => {
      this.closed = true;
      const p = this.pending;
      this.pending = undefined;
      p?.reject(new ShellLost('the remote shell ended during the command'));
    });
  }

  /**
   * Takes an exec channel just opened with REMOTE_SHELL_COMMAND and checks sh
   * answers (one round trip). Undefined when it does not (a login shell that
   * cannot run it, say): the host then runs each command on a channel of its own.
   */
  static async start(channel: ClientChannel, timeoutMs: number): Promise<RemoteShell | undefined> {
    const shell = new RemoteShell(channel);
    try {
      // defined in the shell itself (a command runs in a subshell); a shell without `local` fails the check below
      channel.write(`${OWN_SCRIPT_FUNCTION}\n`);
      const hello = await withTimeout(
        // `$$` in the subshell is still the shell's own pid
        shell.run(
          'if command -v base64 >/dev/null 2>&1; then echo yes; else echo no; fi; echo $$; ' +
            `a=0; if __phx_own 'a b' 'a=1 b=2; [ $# = 0 ]' 2>/dev/null && [ "$a" = 0 ] && [ -z "\${b+set}" ]; then echo own; else echo sub; fi`,
        ),
        timeoutMs,
      );
      const answer = /^(yes|no)\n(\d+)\n(own|sub)\n$/.exec(hello.stdout.toString());
      if (hello.rc !== 0 || !answer) return shell.discard();
      shell.stdinOk = answer[1] === 'yes';
      shell.shellPid = Number(answer[2]);
      shell.ownScriptsOk = answer[3] === 'own';
      return shell;
    } catch {
      return shell.discard();
    }
  }

  private discard(): undefined {
    this.close();
    return undefined;
  }

  /** false when base64 is missing on the host: commands with stdin need an exec channel */
  get canFeedStdin(): boolean {
    return this.stdinOk;
  }

  /**
   * sh's pid on the host. sshd starts each session's command in a session of its
   * own (setsid), so this is also the session id of everything a command started.
   */
  get pid(): number | undefined {
    return this.shellPid;
  }

  /** the shell is gone (it ended, or was ended): drop it */
  get ended(): boolean {
    return this.closed;
  }

  /**
   * Runs one command; rejects with ShellLost if the shell ends first. One at a time.
   * An `ownScript` (see same-shell.ts) may run in the shell's own process: `true`, or the names
   * it assigns when its maker knows them.
   */
  run(command: string, stdin?: string | Buffer, ownScript: boolean | readonly string[] = false): Promise<ShellOutput> {
    if (this.closed) return Promise.reject(new ShellLost('the remote shell has ended'));
    if (this.pending) return Promise.reject(new Error('remote shell is busy'));
    if (stdin !== undefined && !this.stdinOk)
      return Promise.reject(new Error('remote shell cannot feed stdin (no base64 on the host)'));
    const nonce = `${this.markerPrefix}-${++this.commandCount}`;
    const end = `PHX-END-${nonce}`;
    // The leading newline makes the marker findable after output without one; it is not the command's.
    const p: Pending = {
      out: new MarkedStream(Buffer.from(`\n${end} `)),
      err: new MarkedStream(Buffer.from(`\n${end}\n`)),
      resolve: () => {},
      reject: () => {},
    };
    const done = new Promise<ShellOutput>((resolve, reject) => {
      p.resolve = resolve;
      p.reject = reject;
    });
    this.pending = p;
    const body = `( eval ${shellQuote(command)} )`;
    const locals = stdin === undefined ? this.sameShellLocals(command, ownScript) : undefined;
    let request: string;
    if (locals) {
      request = `__phx_own ${shellQuote(locals.join(' '))} ${shellQuote(command)} </dev/null\n`;
    } else if (stdin === undefined) {
      request = `${body} </dev/null\n`;
    } else {
      // base64 keeps any byte (NUL too) intact through sh's here-document
      const eof = `PHX_IN_${nonce}`;
      request = `base64 -d <<'${eof}' | ${body}\n${Buffer.from(stdin).toString('base64')}\n${eof}\n`;
    }
    request += `printf '\\n%s %s\\n' ${end} "$?"; printf '\\n%s\\n' ${end} >&2\n`;
    this.channel.write(request);
    return done;
  }

  /** The names to make local when `command` may run in the shell's own process; undefined: a subshell. */
  private sameShellLocals(command: string, ownScript: boolean | readonly string[]): readonly string[] | undefined {
    if (ownScript === false || !this.ownScriptsOk) return undefined;
    if (ownScript === true) return sameShellLocals(command);
    // names its maker declared: the reading of names is skipped, not the check
    return fitsSameShell(command) ? ownScript : undefined;
  }

  private onData(which: 'out' | 'err', chunk: Buffer): void {
    const p = this.pending;
    if (!p) return; // late output of a background process: not any command's
    (which === 'out' ? p.out : p.err).push(chunk);
    if (!p.out.found || !p.err.found) return;
    const status = /^(\d+)\n/.exec(p.out.after());
    if (!status) return; // the status line is still on its way
    this.pending = undefined;
    p.resolve({ rc: Number(status[1]), stdout: p.out.before(), stderr: p.err.before() });
  }

  /** Ends the shell; a command still running in it is reported as lost (ShellLost). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const p = this.pending;
    this.pending = undefined;
    p?.reject(new ShellLost('the remote shell was ended'));
    this.channel.end();
    this.channel.close();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
    // settles with p's own value or reason, whatever it is; the then() chain itself cannot reject
    void p.then(resolve, reject).finally(() => clearTimeout(t));
  });
}

// Running one command on an SSH exec channel of its own: stdin and the sudo
// conversation (become.ts), the exit status or signal, the task timeout's
// backstop, the caller's abort, and a link lost mid-command. settleOnce() is
// how any exec ends, shared with the remote shells (ssh-shell-pool.ts).
import { constants as osConstants } from 'node:os';
import type { Client, ClientChannel } from 'ssh2';
import { UnreachableError } from '../errors.js';
import { BecomeError, ExecStreams } from './become.js';
import { ChannelRefused } from './ssh-channels.js';
import { sendKill } from './ssh2-internals.js';
import type { SshLink } from './ssh-transport.js';
import { isTimeout, TIMEOUT_GRACE_MS, withTimeoutNote } from './timeout.js';
import type { ExecOptions, ExecResult } from './types.js';

/**
 * The task timeout's note, and sudo refusing to run the command (which is not
 * the command's own failure): the same reading for a channel and a shell.
 */
export function noteTimeout(
  r: ExecResult,
  streams: ExecStreams,
  opts: ExecOptions,
  started: number,
): BecomeError | undefined {
  const hostTimedOut = isTimeout(opts.timeoutMs, started, r.rc);
  if (hostTimedOut) r.stderr = withTimeoutNote(r.stderr, opts.timeoutMs!);
  return streams.failure(r, hostTimedOut);
}

/**
 * How one exec ends, exactly once, whatever comes first: its result, its
 * timer, the caller's abort (which runs `stop` first) or the connection
 * dying. `done()` is already true when the signal had aborted before.
 */
export function settleOnce(link: SshLink, opts: ExecOptions, reject: (e: Error) => void, stop: () => void) {
  let timer: NodeJS.Timeout | undefined;
  let done = false;
  let unwatch = () => {};
  const finish = (fn: () => void) => {
    if (done) return;
    done = true;
    if (timer) clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    unwatch();
    fn();
  };
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
    unwatch = link.whenLost((e) => finish(() => reject(e)));
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

/** One exec's ending, from settleOnce. */
export type Settlement = ReturnType<typeof settleOnce>;

/** Runs `command` on a new exec channel; ChannelRefused when the server will not open one now. */
export async function execOnChannel(
  link: SshLink,
  client: Client,
  command: string,
  opts: ExecOptions,
): Promise<ExecResult> {
  if (link.deadReason) throw new UnreachableError(link.deadReason);
  link.debug(`ssh ${link.label}: exec ${command}`);
  const started = Date.now();
  return new Promise<ExecResult>((resolve, reject) => {
    let stream: ClientChannel | undefined;
    const stopRemote = () => {
      if (!stream) return;
      sendKill(stream);
      stream.close();
    };
    const settle = settleOnce(link, opts, reject, stopRemote);
    if (settle.done()) return;

    client.exec(command, (err, ch) => {
      if (err) {
        const refused = new ChannelRefused(`ssh ${link.label}: cannot start command: ${err.message}`);
        return settle.finish(() => reject(link.deadReason ? new UnreachableError(link.deadReason) : refused));
      }
      if (settle.done()) {
        ch.close();
        return;
      }
      stream = ch;
      const run: ChannelRun = { link, ch, opts, started, settle, resolve, reject, stopRemote };
      followChannel(run);
    });
  });
}

/** One exec channel's command in progress, and how to end it. */
interface ChannelRun {
  link: SshLink;
  ch: ClientChannel;
  opts: ExecOptions;
  started: number;
  settle: Settlement;
  resolve: (r: ExecResult) => void;
  reject: (e: Error) => void;
  /** SIGKILL to the command, then close the channel */
  stopRemote: () => void;
}

/** Feeds the channel (sudo's password, then stdin), collects its output, and settles when it closes. */
function followChannel(run: ChannelRun): void {
  const { ch, opts, settle, reject } = run;
  let timedOut = false;
  const streams = new ExecStreams(opts.stdin, opts.become, {
    write: (d) => ch.write(d),
    end: (d) => ch.end(d),
    fail: (e) => {
      run.stopRemote();
      settle.finish(() => reject(e));
    },
  });
  let exit: ChannelExit | undefined;
  ch.on('data', (d: Buffer) => streams.onStdout(d));
  ch.stderr.on('data', (d: Buffer) => streams.onStderr(d));
  ch.on('exit', (code: number | null, signal?: string) => {
    exit = { code, signal };
  });
  ch.on('error', () => {}); // reported through close / the connection
  ch.on('close', () => settleOnClose(run, streams, exit, timedOut));
  if (opts.timeoutMs) {
    // a backstop: the command line's own `timeout` (see buildCommand) kills it on the host
    settle.setTimer(() => {
      timedOut = true;
      run.stopRemote();
      // a server that ignores the signal keeps the channel until the command ends: do not wait for it
      settle.setTimer(() => ch.emit('close'), 1000);
    }, opts.timeoutMs + TIMEOUT_GRACE_MS);
  }
  streams.start();
}

interface ChannelExit {
  code: number | null;
  signal?: string;
}

function settleOnClose(run: ChannelRun, streams: ExecStreams, exit: ChannelExit | undefined, timedOut: boolean): void {
  const { link, opts, settle, resolve, reject } = run;
  const { stdout, stderr } = streams.output();
  if (timedOut)
    return settle.finish(() =>
      resolve({ rc: 128 + 9, stdout, stderr: withTimeoutNote(stderr, opts.timeoutMs!), signal: 'SIGKILL' }),
    );
  if (!exit) {
    // the channel closed without an exit status: the link went away
    return void setImmediate(() =>
      settle.finish(() =>
        link.deadReason
          ? reject(new UnreachableError(link.deadReason))
          : resolve({ rc: 255, stdout, stderr: stderr || 'ssh: channel closed without an exit status' }),
      ),
    );
  }
  const r = exitResult(exit, stdout, stderr);
  const become = noteTimeout(r, streams, opts, run.started);
  settle.finish(() => (become ? reject(become) : resolve(r)));
}

/** The command's status as sh would give it: its exit code, or 128 + n for a signal. */
function exitResult(exit: ChannelExit, stdout: string, stderr: string): ExecResult {
  if (exit.code !== null && exit.code !== undefined) return { rc: exit.code, stdout, stderr };
  const sig = `SIG${(exit.signal ?? 'KILL').replace(/^SIG/, '')}`;
  const n = (osConstants.signals as Record<string, number>)[sig] ?? 9;
  return { rc: 128 + n, stdout, stderr, signal: sig };
}

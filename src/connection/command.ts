// Turns an argv plus task context (chdir, environment, become, timeout) into
// the one command line a connection runs, and what goes with it to exec.
import { randomBytes } from 'node:crypto';
import { shellJoin, shellQuote } from '../quote.js';
import { BecomeError } from './become.js';
import type { Become, BecomeExchange } from './types.js';

export interface CommandContext {
  chdir?: string;
  env?: Record<string, string>;
  become?: Become;
  stdin?: string | Buffer;
  /** the task timeout: the host kills the command itself (`timeout -s KILL`) */
  timeoutMs?: number;
}

/** Pass all but `command` on to Connection.exec's options. */
export interface BuiltCommand {
  command: string;
  stdin?: string | Buffer;
  become?: BecomeExchange;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `argv` is a command as a list, or `{ shell }` for a script run by sh -c. */
export function buildCommand(cmd: readonly string[] | { shell: string }, ctx: CommandContext = {}): BuiltCommand {
  let line = Array.isArray(cmd) ? shellJoin(cmd) : (cmd as { shell: string }).shell;
  let stdin = ctx.stdin;
  const env = Object.entries(ctx.env ?? {});
  if (env.length > 0) {
    const prelude = environmentPrelude(env);
    // The values travel on stdin, never in the command line: a command line is
    // in every process's argv (`ps` shows it to all users of the host). The
    // command reads exactly the prelude's bytes; the rest of stdin is its own.
    // `export` keeps the variables for every command of a shell script too.
    line = `__phx_env=$(head -c ${prelude.length}) || exit 125; eval "$__phx_env"; unset __phx_env; ${line}`;
    stdin = stdin === undefined ? prelude : Buffer.concat([prelude, Buffer.from(stdin)]);
  }
  // Messages the modules parse are English only in the C locale (coreutils, ZFS
  // and the PVE tools translate them). Exported, so a script's every command
  // has it; a task's own environment (read after it) may still set another; `cd`'s own error is in C too.
  if (ctx.chdir) line = `cd ${shellQuote(ctx.chdir)} && ${line}`;
  line = `export LC_ALL=C; ${line}`;
  // OpenSSH ignores signal requests for root logins, so killing the channel
  // would leave a timed-out command running: the host enforces the limit.
  // `timeout` kills its whole process group (the command's children too).
  const limit = ctx.timeoutMs ? `timeout -s KILL ${Math.max(1, Math.round(ctx.timeoutMs)) / 1000} ` : '';
  if (!ctx.become) return { command: limit ? `${limit}sh -c ${shellQuote(line)}` : line, stdin };

  // The marker is the command's first line: once it arrives, sudo is done and
  // stdin belongs to the command. The prompt is unique so it is recognised on
  // stderr; without a password -n makes sudo fail at once instead of reading stdin.
  const nonce = randomBytes(8).toString('hex');
  const become: BecomeExchange = { prompt: `[phx-sudo@${nonce}] `, marker: `PHX-BECOME-SUCCESS-${nonce}` };
  if (ctx.become.password !== undefined) {
    // sudo reads one line: the rest would be left for the command to read
    if (/[\r\n]/.test(ctx.become.password))
      throw new BecomeError('become: the sudo password contains a line break, which sudo cannot take');
    // not enumerable: a logged or JSON-dumped BuiltCommand does not show it
    Object.defineProperty(become, 'password', { value: ctx.become.password, enumerable: false });
  }
  const auth = become.password !== undefined ? `-S -p ${shellQuote(become.prompt)}` : '-n';
  const user = ctx.become.user || 'root';
  // sudo runs `timeout` as the become user, so it may kill what it started.
  const command = `sudo -H ${auth} -u ${shellQuote(user)} -- ${limit}sh -c ${shellQuote(`echo ${become.marker}; ${line}`)}`;
  return { command, stdin, become };
}

/** `export K='v'` lines for the environment, checked: a name that is not a name, or a NUL, cannot be passed. */
function environmentPrelude(env: [string, string][]): Buffer {
  for (const [k, v] of env) {
    if (!ENV_NAME.test(k)) throw new Error(`invalid environment variable name: ${JSON.stringify(k)}`);
    if (v.includes('\0')) throw new Error(`environment variable ${k}: a value cannot contain a NUL character`);
  }
  return Buffer.from(env.map(([k, v]) => `export ${k}=${shellQuote(v)}\n`).join(''));
}

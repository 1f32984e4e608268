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
  const env = Object.entries(ctx.env ?? {});
  if (env.length > 0) {
    for (const [k] of env)
      if (!ENV_NAME.test(k)) throw new Error(`invalid environment variable name: ${JSON.stringify(k)}`);
    // `export` keeps the variables for every command of a shell script too.
    line = `export ${env.map(([k, v]) => `${k}=${shellQuote(v)}`).join(' ')}; ${line}`;
  }
  if (ctx.chdir) line = `cd ${shellQuote(ctx.chdir)} && ${line}`;
  // OpenSSH ignores signal requests for root logins, so killing the channel
  // would leave a timed-out command running: the host enforces the limit.
  // `timeout` kills its whole process group (the command's children too).
  const limit = ctx.timeoutMs ? `timeout -s KILL ${Math.max(1, Math.round(ctx.timeoutMs)) / 1000} ` : '';
  if (!ctx.become) return { command: limit ? `${limit}sh -c ${shellQuote(line)}` : line, stdin: ctx.stdin };

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
  return { command, stdin: ctx.stdin, become };
}

// Turns an argv plus task context (chdir, environment, become) into the one
// command line a connection runs, and the stdin that goes with it.
import { shellJoin, shellQuote } from '../quote.js';
import type { Become } from './types.js';

export interface CommandContext {
  chdir?: string;
  env?: Record<string, string>;
  become?: Become;
  stdin?: string | Buffer;
}

export interface BuiltCommand {
  command: string;
  stdin?: string | Buffer;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `argv` is a command as a list, or `{ shell }` for a script run by sh -c. */
export function buildCommand(cmd: readonly string[] | { shell: string }, ctx: CommandContext = {}): BuiltCommand {
  let line = Array.isArray(cmd) ? shellJoin(cmd) : (cmd as { shell: string }).shell;
  const env = Object.entries(ctx.env ?? {});
  if (env.length > 0) {
    for (const [k] of env) if (!ENV_NAME.test(k)) throw new Error(`invalid environment variable name: ${JSON.stringify(k)}`);
    // `export` keeps the variables for every command of a shell script too.
    line = `export ${env.map(([k, v]) => `${k}=${shellQuote(v)}`).join(' ')}; ${line}`;
  }
  if (ctx.chdir) line = `cd ${shellQuote(ctx.chdir)} && ${line}`;
  let stdin = ctx.stdin;
  if (ctx.become) {
    const user = ctx.become.user || 'root';
    // -S reads the password from stdin; -p '' keeps the prompt off stderr; -k is
    // not used so a cached ticket works as sudo normally does.
    line = `sudo -H -S -p '' -u ${shellQuote(user)} -- sh -c ${shellQuote(line)}`;
    if (ctx.become.password !== undefined) {
      const pw = `${ctx.become.password}\n`;
      stdin = stdin === undefined ? pw : Buffer.concat([Buffer.from(pw), Buffer.from(stdin)]);
    }
  }
  return { command: line, stdin };
}

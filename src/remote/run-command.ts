// What the command and shell modules share: the creates/removes guard (one
// round trip, only when asked), running the command (one round trip), and
// Ansible's result shape (cmd, rc, stdout, stderr, start, end, delta, msg).
import { posix } from 'node:path';
import * as z from 'zod';
import type { ModuleContext, ModuleDefinition, Plan } from '../module.js';
import { shellQuote } from '../quote.js';
import type { Predictions } from '../predictions.js';
import { overlayGlob, probe, safePath } from './probe.js';

export interface CommandSpec {
  /** what the result's `cmd` shows: argv for command, the string for shell */
  cmd: string[] | string;
  /** the sh command line that runs it (built with shellJoin) */
  line: string;
  chdir?: string;
  creates?: string;
  removes?: string;
  stdin?: string;
  stdinAddNewline: boolean;
  stripEmptyEnds: boolean;
  /** Ansible's warnings for arguments it accepts and ignores (command's executable) */
  warnings?: string[];
}

/** The arguments command and shell share (each adds how the command itself is given). */
export const commandOptionFields = {
  creates: z.string().optional().describe('a path or glob: if it exists, the command is not run'),
  removes: z.string().optional().describe('a path or glob: if it does not exist, the command is not run'),
  chdir: z.string().optional().describe('directory to run in'),
  stdin: z.string().optional().describe('text fed to the command'),
  stdin_add_newline: z.boolean().default(true),
  strip_empty_ends: z.boolean().default(true),
  warn: z.boolean().optional().describe('accepted for compatibility; ignored'),
};

type CommandOptions = z.infer<z.ZodObject<typeof commandOptionFields>>;

/** The shared arguments plus what the result shows and the line that runs it → a CommandSpec. */
export function commandSpec(cmd: string[] | string, line: string, a: CommandOptions): CommandSpec {
  return {
    cmd,
    line,
    chdir: a.chdir,
    creates: a.creates,
    removes: a.removes,
    stdin: a.stdin,
    stdinAddNewline: a.stdin_add_newline,
    stripEmptyEnds: a.strip_empty_ends,
  };
}

/** facts/plan/apply of a module whose arguments say what to run through `toSpec`. */
export function commandSteps<A>(
  toSpec: (a: A) => CommandSpec,
): Pick<ModuleDefinition<A, CommandFacts>, 'facts' | 'overlay' | 'plan' | 'apply' | 'readAhead' | 'readAheadFor'> {
  return {
    // read ahead only with creates/removes: a converged host then usually runs nothing
    readAhead: 'facts',
    readAheadFor: (a) => {
      const s = toSpec(a);
      return s.creates !== undefined || s.removes !== undefined ? 'read' : 'end';
    },
    facts: (ctx, a) => commandFacts(ctx, toSpec(a)),
    overlay: (facts, a, predicted) => overlayCommandFacts(facts, toSpec(a), predicted),
    plan: (facts, a, p) => commandPlan(facts, toSpec(a), p.check),
    apply: (ctx, plan, a) => commandApply(ctx, plan, toSpec(a)),
  };
}

export interface CommandFacts {
  /** undefined when the option was not given */
  createsExists?: boolean;
  removesExists?: boolean;
}

function onHost(spec: CommandSpec, p: string): string {
  return spec.chdir && !posix.isAbsolute(p) ? posix.join(spec.chdir, p) : p;
}

export async function commandFacts(ctx: ModuleContext, spec: CommandSpec): Promise<CommandFacts> {
  const globs = [spec.creates, spec.removes].filter((g): g is string => g !== undefined).map((g) => onHost(spec, g));
  if (globs.length === 0) return {};
  const r = await probe(ctx, { globs });
  let i = 0;
  return {
    createsExists: spec.creates !== undefined ? r.globs[i++] : undefined,
    removesExists: spec.removes !== undefined ? r.globs[i++] : undefined,
  };
}

/** Check mode: a creates/removes path an earlier task of the run would make or remove. */
export function overlayCommandFacts(f: CommandFacts, spec: CommandSpec, predicted: Predictions): CommandFacts {
  const at = (exists: boolean | undefined, glob: string | undefined) =>
    exists === undefined || glob === undefined ? exists : overlayGlob(exists, onHost(spec, glob), predicted);
  return { createsExists: at(f.createsExists, spec.creates), removesExists: at(f.removesExists, spec.removes) };
}

export function commandPlan(facts: CommandFacts, spec: CommandSpec, check: boolean): Plan {
  let skipped: string | undefined;
  let msg: string | undefined;
  if (facts.createsExists) {
    skipped = `skipped, since ${spec.creates} exists`;
    msg = `Did not run command since '${spec.creates}' exists`;
  } else if (facts.removesExists === false) {
    skipped = `skipped, since ${spec.removes} does not exist`;
    msg = `Did not run command since '${spec.removes}' does not exist`;
  }
  const warned = spec.warnings?.length ? { warnings: spec.warnings } : {};
  if (skipped !== undefined) {
    return { changes: [], msg, result: { cmd: spec.cmd, rc: 0, stdout: skipped, stderr: '', ...warned } };
  }
  return {
    changes: [{ description: `run ${typeof spec.cmd === 'string' ? spec.cmd : spec.cmd.join(' ')}` }],
    result: { cmd: spec.cmd, ...warned },
    ...(check
      ? { msg: 'Command would have run if not in check mode; its output (rc, stdout, stderr) is unknown in check mode' }
      : {}),
  };
}

function timestamp(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}000`;
}

function delta(ms: number): string {
  const s = Math.floor(ms / 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${Math.floor(s / 3600)}:${p(Math.floor(s / 60) % 60)}:${p(s % 60)}.${String(Math.round(ms % 1000)).padStart(3, '0')}000`;
}

function stripEnds(s: string): string {
  return s.replace(/[\r\n]+$/, '');
}

export async function commandApply(
  ctx: ModuleContext,
  plan: Plan,
  spec: CommandSpec,
): Promise<Record<string, unknown> | void> {
  if (plan.changes.length === 0) return;
  const line = spec.chdir ? `cd ${shellQuote(safePath(spec.chdir))} && ${spec.line}` : spec.line;
  const stdin = spec.stdin === undefined ? undefined : spec.stdinAddNewline ? `${spec.stdin}\n` : spec.stdin;
  const start = new Date();
  const r = await ctx.runShell(line, { stdin, okExit: 'any' });
  const end = new Date();
  const out = {
    rc: r.rc,
    stdout: spec.stripEmptyEnds ? stripEnds(r.stdout) : r.stdout,
    stderr: spec.stripEmptyEnds ? stripEnds(r.stderr) : r.stderr,
    start: timestamp(start),
    end: timestamp(end),
    delta: delta(end.getTime() - start.getTime()),
    msg: '',
  };
  if (r.rc !== 0) return { ...out, failed: true, msg: 'non-zero return code' };
  return out;
}

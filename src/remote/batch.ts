// Several host commands in one round trip, each one's stdout, stderr and rc
// kept apart: how modules read many facts at the cost of one command.
import { randomBytes } from 'node:crypto';
import type { ExecResult } from '../connection/types.js';
import { ModuleError, type ModuleContext } from '../module.js';
import { shellJoin } from '../quote.js';

/** A command of a batch: an argv, or a script run by the batch's own shell (no `sh -c`: a process fewer). */
export type BatchCommand = readonly string[] | { readonly shell: string };

/**
 * Runs several commands in ONE round trip (each one's stdout, stderr and rc
 * kept apart). Commands run even when an earlier one failed. A `{ shell }`
 * script runs in a `{ …; }` group of the batch's shell: its variables and `set`
 * options stay for the commands after it, so it must leave them harmless (it
 * may not `exit`).
 */
export async function runBatch(
  ctx: ModuleContext,
  commands: readonly BatchCommand[],
  /** readsOnly: every command only reads (RunOptions.readsOnly: answers read ahead stay good) */
  opts: { readsOnly?: boolean } = {},
): Promise<ExecResult[]> {
  if (commands.length === 0) return [];
  const readsOnly = opts.readsOnly === true;
  if (commands.length === 1) {
    const only = commands[0];
    return [
      await ('shell' in only
        ? ctx.runShell(only.shell, { okExit: 'any', ownScript: true, readsOnly })
        : ctx.run(only, { okExit: 'any', readsOnly })),
    ];
  }
  const tag = `@@phx-${randomBytes(6).toString('hex')}`;
  const r = await ctx.runShell(batchScript(tag, commands), { okExit: 'any', ownScript: true, readsOnly });
  const lost = () =>
    new ModuleError(`could not run commands on ${ctx.host}: ${r.stderr.trim() || `exit code ${r.rc}`}`, {
      result: r,
    });
  const out: ExecResult[] = [];
  let outAt = 0;
  let errAt = 0;
  for (let i = 0; i < commands.length; i++) {
    const outStart = r.stdout.indexOf(`${tag} out ${i}\n`, outAt);
    const rcMark = outStart < 0 ? null : new RegExp(`\\n${tag} rc ${i} (\\d+)\\n`, 'g');
    if (rcMark) rcMark.lastIndex = outStart;
    const m = rcMark?.exec(r.stdout);
    const errStart = r.stderr.indexOf(`${tag} err ${i}\n`, errAt);
    const errEnd = errStart < 0 ? -1 : r.stderr.indexOf(`\n${tag} end ${i}\n`, errStart);
    if (!m || errEnd < 0) throw lost();
    out.push({
      rc: Number(m[1]),
      stdout: r.stdout.slice(outStart + `${tag} out ${i}\n`.length, m.index),
      stderr: r.stderr.slice(errStart + `${tag} err ${i}\n`.length, errEnd),
    });
    outAt = m.index + m[0].length;
    errAt = errEnd;
  }
  return out;
}

/**
 * The batch as one script. Each command's stdout and stderr are cut out of the two
 * streams by markers written to both (builtins only: no temp file, so no mktemp, cat or rm).
 */
export function batchScript(tag: string, commands: readonly BatchCommand[]): string {
  const lines: string[] = [];
  commands.forEach((c, i) => {
    lines.push(`printf '%s\\n' '${tag} out ${i}'; printf '%s\\n' '${tag} err ${i}' >&2`);
    const body = 'shell' in c ? `{\n${c.shell}\n}` : shellJoin(c);
    lines.push(`${body} </dev/null; rc=$?`);
    lines.push(`printf '\\n%s\\n' "${tag} rc ${i} $rc"; printf '\\n%s\\n' '${tag} end ${i}' >&2`);
  });
  return lines.join('\n');
}

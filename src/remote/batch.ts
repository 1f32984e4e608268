// Several host commands in one round trip, each one's stdout, stderr and rc
// kept apart: how modules read many facts at the cost of one command.
import { randomBytes } from 'node:crypto';
import type { ExecResult } from '../connection/types.js';
import { ModuleError, type ModuleContext } from '../module.js';
import { shellJoin } from '../quote.js';

/**
 * Runs several argv commands in ONE round trip (each one's stdout, stderr and rc
 * kept apart). Commands run even when an earlier one failed.
 */
export async function runBatch(ctx: ModuleContext, commands: readonly (readonly string[])[]): Promise<ExecResult[]> {
  if (commands.length === 0) return [];
  if (commands.length === 1) return [await ctx.run(commands[0], { okExit: 'any' })];
  const tag = `@@phx-${randomBytes(6).toString('hex')}`;
  const lines = ['e=$(mktemp) || exit 97'];
  commands.forEach((argv, i) => {
    lines.push(`printf '%s\\n' '${tag} out ${i}'`);
    lines.push(`${shellJoin(argv)} 2>"$e" </dev/null; rc=$?`);
    lines.push(`printf '\\n%s\\n' "${tag} err ${i} $rc"; cat "$e"; printf '\\n%s\\n' '${tag} end ${i}'`);
  });
  lines.push('rm -f "$e"');
  const r = await ctx.runShell(lines.join('\n'), { okExit: 'any' });
  const out: ExecResult[] = [];
  for (let i = 0; i < commands.length; i++) {
    const start = r.stdout.indexOf(`${tag} out ${i}\n`);
    const errRe = new RegExp(`\\n${tag} err ${i} (\\d+)\\n`);
    const m = start < 0 ? null : errRe.exec(r.stdout.slice(start));
    const endMark = `\n${tag} end ${i}\n`;
    if (start < 0 || !m) {
      throw new ModuleError(`could not run commands on ${ctx.host}: ${r.stderr.trim() || `exit code ${r.rc}`}`, {
        result: r,
      });
    }
    const outStart = start + `${tag} out ${i}\n`.length;
    const errStart = start + m.index + m[0].length;
    const end = r.stdout.indexOf(endMark, errStart);
    out.push({
      rc: Number(m[1]),
      stdout: r.stdout.slice(outStart, start + m.index),
      stderr: r.stdout.slice(errStart, end < 0 ? undefined : end),
    });
  }
  return out;
}

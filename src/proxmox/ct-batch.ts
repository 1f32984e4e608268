// Several reads inside one container for the price of one `pct exec` (on a
// real host each pct run is a Perl program that loads the PVE libraries: a few
// hundred ms). The commands run in the container's /bin/sh, one after the
// other; each one's output (stderr merged into stdout: the container has no
// place of ours to keep it apart) and exit code come back between markers.
import { randomBytes } from 'node:crypto';
import type { ExecResult } from '../connection/types.js';
import { shellJoin } from '../quote.js';

export interface CtBatch {
  /** the host command: pct exec <ctid> -- sh -c <script> */
  argv: string[];
  /** splits what that command returned into one result per command (pct's own failure: that, for each) */
  split(r: ExecResult): ExecResult[];
}

export function ctBatch(ctid: number, commands: readonly (readonly string[])[]): CtBatch {
  const tag = `@@phx-ct-${randomBytes(6).toString('hex')}`;
  const script = commands
    .map(
      (argv, i) =>
        `printf '%s\\n' '${tag} out ${i}'; ${shellJoin(argv)} </dev/null 2>&1; printf '\\n%s\\n' "${tag} end ${i} $?"`,
    )
    .join('\n');
  return {
    argv: ['pct', 'exec', String(ctid), '--', 'sh', '-c', script],
    split(r) {
      const out: ExecResult[] = [];
      for (let i = 0; i < commands.length; i++) {
        const startMark = `${tag} out ${i}\n`;
        const start = r.stdout.indexOf(startMark);
        const end = start < 0 ? null : new RegExp(`\\n${tag} end ${i} (\\d+)\\n`).exec(r.stdout.slice(start));
        if (start < 0 || !end) {
          // pct itself failed (no such CT, not running…) or the shell died: the whole answer, for each
          out.push(r);
          continue;
        }
        const text = r.stdout.slice(start + startMark.length, start + end.index);
        out.push({ ...r, rc: Number(end[1]), stdout: text, stderr: text });
      }
      return out;
    },
  };
}

// Argument parsing shared by the Perl PVE tools (pct, pvesm, qm, pvenode):
// positional args, then `--key value` / `--key=value` options.
import { SimError } from './env.js';

export interface PveArgs {
  positional: string[];
  options: Array<[string, string]>;
  /** argv after a literal `--` (pct exec, qm guest exec) */
  trailing: string[] | null;
}

export function parsePveArgs(args: string[], flagOptions: string[] = []): PveArgs {
  const positional: string[] = [];
  const options: Array<[string, string]> = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') return { positional, options, trailing: args.slice(i + 1) };
    const m = /^--?([a-zA-Z][\w-]*)(?:=(.*))?$/s.exec(a);
    if (!m) {
      positional.push(a);
      continue;
    }
    if (m[2] !== undefined) options.push([m[1], m[2]]);
    else if (
      flagOptions.includes(m[1]) &&
      (i + 1 >= args.length || args[i + 1].startsWith('-') || !/^(0|1|yes|no|true|false)$/.test(args[i + 1]))
    )
      options.push([m[1], '1']);
    else if (i + 1 < args.length && !/^--[a-zA-Z]/.test(args[i + 1])) options.push([m[1], args[++i]]);
    else options.push([m[1], '1']); // a bare boolean flag (`--verbose`)
  }
  return { positional, options, trailing: null };
}

export function unknownOption(name: string): never {
  throw new SimError(`Unknown option: ${name}\n400 unable to parse option`, 255);
}

export function paramError(lines: Record<string, string>): never {
  throw new SimError(
    `400 Parameter verification failed.\n${Object.entries(lines)
      .map(([k, v]) => `${k}: ${v}`)
      .join('\n')}`,
    255,
  );
}

export function needArgs(p: PveArgs, count: number, max = count): void {
  if (p.positional.length < count) throw new SimError('400 not enough arguments', 255);
  if (p.positional.length > max) throw new SimError('400 too many arguments', 255);
}

/** parsePveArgs for a command that takes count (to max) positional arguments, checked with needArgs. */
export function parsePveArgsExpecting(args: string[], count: number, max = count): PveArgs {
  const p = parsePveArgs(args);
  needArgs(p, count, max);
  return p;
}

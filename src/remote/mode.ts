// File modes as Ansible accepts them: an octal string ('0644', '644'), an
// integer (YAML 1.1 reads 0644 as 420, which is the mode itself), or chmod's
// symbolic form ('u=rw,g=r,o=r', 'a+X'), which depends on the current mode.
import * as z from 'zod';

export type ModeSpec = { kind: 'octal'; value: number } | { kind: 'symbolic'; text: string; clauses: SymbolicClause[] };

interface SymbolicAction {
  op: '+' | '-' | '=';
  perms: string; // subset of rwxXst, or one of u/g/o (copy from that class)
}
interface SymbolicClause {
  who: string; // subset of ugoa; '' means a
  actions: SymbolicAction[];
}

const OCTAL = /^0?[0-7]{3,4}$|^0o[0-7]{3,4}$/;
const CLAUSE = /^([ugoa]*)((?:[-+=](?:[rwxXst]*|[ugo]))+)$/;

/** Parses a mode; throws an Error with a user-facing message when it is neither octal nor symbolic. */
export function parseMode(input: string | number): ModeSpec {
  if (typeof input === 'number') {
    if (!Number.isInteger(input) || input < 0 || input > 0o7777)
      throw new Error(`mode ${input} is out of range (0 to 07777)`);
    return { kind: 'octal', value: input };
  }
  const text = input.trim();
  if (OCTAL.test(text)) return { kind: 'octal', value: parseInt(text.replace(/^0o/, ''), 8) };
  const clauses: SymbolicClause[] = [];
  for (const part of text.split(',')) {
    const m = CLAUSE.exec(part);
    if (!m) {
      throw new Error(
        `mode ${JSON.stringify(input)} is neither octal (like '0644') nor symbolic (like 'u=rw,g=r,o=r')`,
      );
    }
    const actions = [...m[2].matchAll(/([-+=])([ugo]|[rwxXst]*)/g)].map((a) => ({
      op: a[1] as '+' | '-' | '=',
      perms: a[2],
    }));
    clauses.push({ who: m[1], actions });
  }
  return { kind: 'symbolic', text, clauses };
}

/** zod schema for a `mode` argument: string or integer, validated by parseMode. */
export const modeArg = z.union([z.string(), z.number().int()]).superRefine((v, ctx) => {
  try {
    parseMode(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
  }
});

/**
 * zod schema for an octal-only mode (no symbolic form), output as the number:
 * an octal string ('0770', '770') or the number itself (YAML's 0770 is 504).
 * `example` is the mode the error message shows, e.g. '0644'.
 */
export function octalModeArg(example: string) {
  return z.union([z.string(), z.number()]).transform((v, c) => {
    if (typeof v === 'number') {
      // YAML reads `770` as the decimal number 770 (= 01402): almost surely an octal mode without its leading 0
      if (v > 0o777 && /^[0-7]+$/.test(String(v))) {
        c.addIssue({
          code: 'custom',
          message: `mode ${v} is the decimal number ${v} (= 0${v.toString(8)}), surely not what you meant: write it as '0${v}' (quoted) or 0${v}`,
        });
        return z.NEVER;
      }
      if (Number.isInteger(v) && v >= 0 && v <= 0o7777) return v;
    } else if (/^0?[0-7]{3,4}$/.test(v.trim())) return parseInt(v.trim(), 8);
    c.addIssue({
      code: 'custom',
      message: `mode ${JSON.stringify(v)} is not an octal mode like '${example}' (quote it, or write it with a leading 0)`,
    });
    return z.NEVER;
  });
}

const CLASS_SHIFT: Record<string, number> = { u: 6, g: 3, o: 0 };

/** The permission bits (07777) a mode spec gives to an entry whose current bits are `current`. */
export function applyMode(spec: ModeSpec, current: number, isDir: boolean): number {
  if (spec.kind === 'octal') return spec.value;
  let mode = current & 0o7777;
  for (const clause of spec.clauses) {
    const who = clause.who === '' || clause.who.includes('a') ? 'ugo' : clause.who;
    for (const action of clause.actions) {
      let bits = 0;
      if (/^[ugo]$/.test(action.perms)) {
        // copy the permissions of another class
        const src = (mode >> CLASS_SHIFT[action.perms]) & 7;
        for (const c of who) bits |= src << CLASS_SHIFT[c];
      } else {
        for (const c of who) {
          const s = CLASS_SHIFT[c];
          if (action.perms.includes('r')) bits |= 4 << s;
          if (action.perms.includes('w')) bits |= 2 << s;
          const anyExec = (current & 0o111) !== 0;
          if (action.perms.includes('x') || (action.perms.includes('X') && (isDir || anyExec))) bits |= 1 << s;
          if (action.perms.includes('s')) {
            if (c === 'u') bits |= 0o4000;
            if (c === 'g') bits |= 0o2000;
          }
          if (action.perms.includes('t') && c === 'o') bits |= 0o1000;
        }
        if (action.perms.includes('t') && who === 'ugo') bits |= 0o1000;
      }
      if (action.op === '+') mode |= bits;
      else if (action.op === '-') mode &= ~bits;
      else {
        let clear = 0;
        for (const c of who) clear |= 7 << CLASS_SHIFT[c];
        if (who.includes('u')) clear |= 0o4000;
        if (who.includes('g')) clear |= 0o2000;
        if (who.includes('o')) clear |= 0o1000;
        // chmod's `=` keeps a directory's setuid/setgid bits unless named
        if (isDir) clear &= ~0o6000 | (bits & 0o6000);
        mode = (mode & ~clear) | bits;
      }
    }
  }
  return mode;
}

/** '0644' as Ansible prints modes. */
export function formatMode(bits: number): string {
  return (bits & 0o7777).toString(8).padStart(4, '0');
}

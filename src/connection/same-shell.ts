// Which of phx-play's own scripts may run in the remote shell's own process
// (remote-shell.ts), inside a function whose variables are local, instead of
// in a `( eval … )` subshell: a fork fewer per command on the host, about 3 %
// of a converged run. Only scripts a caller marks as its own (ExecOptions
// .ownScript: literal command words, written by phx-play) are considered, and
// only when this reading finds nothing that could outlive the function: every
// name the script may assign is made local, and anything it cannot account
// for (cd, exit, traps, options, eval, background jobs, here-documents, …)
// sends the script to a subshell as before. A user's command never comes here.

/** The names to make local, or undefined when the script needs a subshell of its own. */
export function sameShellLocals(script: string): string[] | undefined {
  const code = outsideSingleQuotes(script);
  if (code === undefined || FORBIDDEN.test(code)) return undefined;
  const names = new Set<string>();
  for (const m of code.matchAll(ASSIGNMENT)) names.add(m[1]);
  for (const m of code.matchAll(FOR_NAME)) names.add(m[1]);
  for (const m of code.matchAll(UNSET_NAMES)) for (const n of m[1].trim().split(/\s+/)) names.add(n);
  // `local` of a read-only name fails (bash's own): such a script keeps its subshell
  if ([...names].some((n) => READ_ONLY.has(n))) return undefined;
  // the function makes these local itself (remote-shell.ts OWN_SCRIPT_FUNCTION)
  names.delete('IFS');
  names.delete(SCRIPT_VARIABLE);
  return [...names];
}

/**
 * Whether a script whose maker names its variables (ExecOptions.ownLocals) may run in the
 * shell's process: nothing the reading refuses appears anywhere in it, quoted or not. Stricter
 * than sameShellLocals (a word in a quoted path sends it to a subshell too), and cheap: one regex.
 */
export function fitsSameShell(script: string): boolean {
  return !FORBIDDEN.test(script);
}

/** The variable the function keeps the script in while it runs it. */
export const SCRIPT_VARIABLE = '__phx_own_script';

/**
 * Defined once in each remote shell: runs a script (its 2nd argument) with the
 * names of its 1st argument, IFS and itself local, and no positional parameters.
 */
export const OWN_SCRIPT_FUNCTION = `__phx_own() { local IFS="$IFS" ${SCRIPT_VARIABLE}="$2" $1; shift 2; eval "$${SCRIPT_VARIABLE}"; }`;

/** Constructs that change the shell beyond variables, or that this reading does not follow (one regex: one pass). */
const FORBIDDEN = new RegExp(
  [
    // the working directory, the shell's life, its traps, limits, descriptors and definitions
    /\b(?:cd|pushd|popd|exit|return|trap|exec|ulimit|alias|unalias|hash|wait|shift|source|eval|readonly|declare|typeset|local|let|read|getopts|mapfile|readarray|printf\s+-v)\b/,
    // umask with an argument sets it (alone it prints it)
    /\bumask[ \t]+[^\s;&|)]/,
    // set: only `set --`, `set -f` and `set +f` (the function keeps its own positional parameters)
    /\bset\b(?![ \t]+(?:--|[-+]f)(?=[\s;&|)]|$))/,
    // export only of an assignment (its name is then local, exported or not)
    /\bexport\b(?![ \t]+[A-Za-z_]\w*=)/,
    /\bunset[ \t]+-/,
    // `. file`
    /(?:^|[\s;&|(])\.[ \t]/,
    // ${name=…} and ${name:=…} assign; arithmetic may assign too
    /\$\{\w+:?=/,
    /\$\(\(|\(\(/,
    // a function definition
    /\w[ \t]*\([ \t]*\)/,
    // a background job (not &&, >&, <&, &>)
    /(?<![&<>])&(?![&>])/,
    // a here-document's body is not code this reading could tell apart
    /<</,
  ]
    .map((re) => re.source)
    .join('|'),
);

/** Variables a shell has read-only from its start (bash's; dash has none). */
const READ_ONLY = new Set(['BASHOPTS', 'BASH_VERSINFO', 'EUID', 'PPID', 'SHELLOPTS', 'UID']);

const ASSIGNMENT = /(?:^|[\s;&|(`{])([A-Za-z_]\w*)=/g;
const FOR_NAME = /\bfor[ \t]+([A-Za-z_]\w*)/g;
const UNSET_NAMES = /\bunset((?:[ \t]+[A-Za-z_]\w*)+)/g;

/**
 * The script with single-quoted strings and backslash-escaped characters taken
 * out (they are inert text); double-quoted text is kept, since `$(…)` and
 * `${x=…}` work there. Undefined when a quote is left open.
 */
function outsideSingleQuotes(script: string): string | undefined {
  const code = script.replace(QUOTED, (_: string, double: string | undefined) =>
    double === undefined ? ' ' : ` ${double.replace(ESCAPED, ' ')} `,
  );
  return /["']/.test(code) ? undefined : code;
}

/** An escaped character, a single-quoted string, or a double-quoted one (its text captured). */
const QUOTED = /\\[\s\S]|'[^']*'|"((?:[^"\\]|\\[\s\S])*)"/g;
const ESCAPED = /\\[\s\S]/g;

// The one quoting function: every argv becomes a POSIX sh command line here.
// Each argument is single-quoted unless it is made only of characters sh never
// interprets, so `$(...)`, backticks, globs, newlines and quotes stay data.

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function shellQuote(arg: string): string {
  if (arg === '') return "''";
  if (SAFE.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function shellJoin(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('empty command');
  const [first, ...rest] = argv;
  // A bare `NAME=value` first word would be an assignment, not the command.
  const head = first.includes('=') ? `'${first.replace(/'/g, `'\\''`)}'` : shellQuote(first);
  return [head, ...rest.map(shellQuote)].join(' ');
}

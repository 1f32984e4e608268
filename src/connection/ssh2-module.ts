// ssh2 is loaded when the first SSH connection opens, not when the connection code is:
// its top level (its modules, node's crypto checks, its native binding) is then paid
// only by runs that connect somewhere, not by --syntax-check, --list-tasks or plays
// that only run locally. The code cache still holds its compiled code (src/cli/warm-up.ts).
import type ssh2 from 'ssh2';

export type Ssh2 = typeof ssh2;

let loading: Promise<Ssh2> | undefined;

export function loadSsh2(): Promise<Ssh2> {
  loading ??= import('ssh2').then((m) => m.default);
  return loading;
}

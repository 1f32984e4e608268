// Ansible expands every `type='path'` module argument where the module runs
// (module_utils/common/validation.py check_type_path: os.path.expanduser(
// os.path.expandvars(value))): `~/.profile`, `~root/.rhosts`, `$HOME/x` name
// files in that user's home. A module lists such arguments in `pathArgs`; before
// it reads the host, the ones that need it are expanded there, in one round
// trip, by the same sh text the command module uses (src/remote/expand-word.ts:
// literal parts quoted, no eval, no command substitution), as the task's become
// user. A path without `~` or `$` costs nothing.
import type { ModuleContext } from '../module.js';
import { ModuleError } from '../module.js';
import { hostExpandedWord, needsExpansion } from './expand-word.js';

export async function expandPathArgs<A>(names: readonly string[] | undefined, args: A, ctx: ModuleContext): Promise<A> {
  if (!names?.length || args === null || typeof args !== 'object') return args;
  const record = args as Record<string, unknown>;
  const keys = names.filter((k) => typeof record[k] === 'string' && needsExpansion(record[k]));
  if (keys.length === 0) return args;
  const words = keys.map((k) => hostExpandedWord(record[k] as string));
  const r = await ctx.runShell(`printf '%s\\0' ${words.join(' ')}`, { readsOnly: true });
  const values = r.stdout.split('\0');
  if (values.length !== keys.length + 1 || values[keys.length] !== '')
    throw new ModuleError(`could not expand ${keys.map((k) => `${k}=${String(record[k])}`).join(', ')} on the host`);
  const out: Record<string, unknown> = { ...record };
  keys.forEach((k, i) => (out[k] = values[i]));
  return out as A;
}

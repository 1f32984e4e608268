// Mount option strings (`addr=10.0.0.5,rw,nfsvers=4`: docker's local driver `o`,
// an NFS storage's `options`): comma-separated, a key or key=value each. A value
// holding a comma adds an option of its own (`rw,ro=0` → `rw` and `ro=0`).
import { lineProblem } from './line.js';
import { ValueRefused } from './property-string.js';

const OPTION_NAME = /^[A-Za-z0-9_.:-]+$/;

/** Why `value` cannot be one option's value, or undefined when it can. */
export function mountOptionValueProblem(value: string): string | undefined {
  if (value.includes(',')) return 'must not contain "," (it would add a mount option)';
  return lineProblem(value);
}

/** Why `name` cannot be a mount option's name, or undefined when it can. */
export function mountOptionNameProblem(name: string): string | undefined {
  return OPTION_NAME.test(name) ? undefined : 'is not a mount option name (letters, digits, "_", ".", ":", "-")';
}

/** `{addr: '10.0.0.5', rw: true, nfsvers: 4}` → `addr=10.0.0.5,rw,nfsvers=4` (true: the bare name; false: left out). */
export function printMountOptions(options: Iterable<[string, string | number | boolean]>): string {
  const parts: string[] = [];
  for (const [name, value] of options) {
    const nameWhy = mountOptionNameProblem(name);
    if (nameWhy) throw new ValueRefused(`mount option ${JSON.stringify(name)} ${nameWhy}`);
    if (value === false) continue;
    if (value === true) {
      parts.push(name);
      continue;
    }
    const text = String(value);
    const why = mountOptionValueProblem(text);
    if (why) throw new ValueRefused(`mount option ${name}: ${JSON.stringify(text)} ${why}`);
    parts.push(`${name}=${text}`);
  }
  return parts.join(',');
}

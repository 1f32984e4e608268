// Proxmox property strings (`netN`, `mpN`, `rootfs`, `features`, `startup`):
// `default,key=value,key=value`. pve-common's PVE::JSONSchema::parse_property_string
// splits on every `,` and reads a part without `=` as the default key's value, so a
// `,` inside a value adds a key (`bridge=vmbr0,firewall=0`) and an `=` inside the
// keyless part turns it into a key. print_property_string refuses commas ("illegal
// value with commas"); we refuse what the parser would misread, before any command.
import { ModuleError } from '../module.js';
import { lineProblem } from './line.js';

const KEY = /^[a-z][a-z0-9_-]*$/;

/** Why `value` cannot stand as one value in a property string, or undefined when it can. */
export function propertyValueProblem(value: string): string | undefined {
  if (value.includes(',')) return 'must not contain "," (it would start another key of the property string)';
  if (value.includes('=')) return 'must not contain "=" (the property string would read it as a key)';
  return lineProblem(value);
}

/** Why `key` cannot be a key of a property string, or undefined when it can. */
export function propertyKeyProblem(key: string): string | undefined {
  return KEY.test(key) ? undefined : 'is not a property key (lower-case letters, digits, "_" and "-")';
}

/** A value refused by an encoder: the message names the key and why. The task fails before any command. */
export class ValueRefused extends ModuleError {
  constructor(message: string) {
    super(message, { hint: 'a value cannot carry the separators of the format it is written into' });
    this.name = 'ValueRefused';
  }
}

/**
 * `[default,]key=value,…` with every key and value checked. Keys keep the order
 * given; callers that compare with what PVE stored sort them as PVE does.
 */
export function printPropertyString(defaultValue: string | undefined, props: Iterable<[string, string]>): string {
  const parts: string[] = [];
  if (defaultValue !== undefined) {
    const why = propertyValueProblem(defaultValue);
    if (why) throw new ValueRefused(`${JSON.stringify(defaultValue)} ${why}`);
    parts.push(defaultValue);
  }
  for (const [key, value] of props) {
    const keyWhy = propertyKeyProblem(key);
    if (keyWhy) throw new ValueRefused(`key ${JSON.stringify(key)} ${keyWhy}`);
    const why = propertyValueProblem(value);
    if (why) throw new ValueRefused(`${key}: ${JSON.stringify(value)} ${why}`);
    parts.push(`${key}=${value}`);
  }
  return parts.join(',');
}

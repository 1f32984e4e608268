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
  if (value.includes(',')) return 'must not contain commas ("," would start another key of the property string)';
  if (value.includes('=')) return 'must not contain "=" (the property string would read it as a key)';
  return lineProblem(value);
}

/** Why `key` cannot be a key of a property string, or undefined when it can. */
export function propertyKeyProblem(key: string): string | undefined {
  return KEY.test(key) ? undefined : 'is not a property key (lower-case letters, digits, "_" and "-")';
}

/**
 * Why a whole property string written by the user (`name=eth0,bridge=vmbr0`)
 * cannot be passed on, or undefined when it can: it must be one line, and no key
 * may come twice (parse_property_string dies on a duplicate key; a part without
 * `=` is the value of `defaultKey`, so `local:8,volume=x` names volume twice).
 */
export function propertyStringProblem(text: string, defaultKey?: string): string | undefined {
  const lineWhy = lineProblem(text);
  if (lineWhy) return lineWhy;
  const seen = new Set<string>();
  for (const part of text.split(',')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = eq < 0 ? (defaultKey ?? '(the keyless value)') : part.slice(0, eq);
    if (seen.has(key)) return `names ${key} twice (PVE refuses a duplicate key in a property string)`;
    seen.add(key);
  }
  return undefined;
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

// Reading OpenZFS CLI output (spec §3): `zfs get -H -p -o property,value,source`
// and `zfs list -H -o name`, and the names and values zfs accepts.
import { normalizeValue } from './sizes.js';

export interface ZfsProperty {
  value: string;
  /** local, default, `inherited from <ds>`, temporary, received, or - */
  source: string;
}

/** `zfs get -H -p -o property,value,source …` → property → {value, source}. */
export function parseZfsGet(stdout: string): Record<string, ZfsProperty> {
  const props: Record<string, ZfsProperty> = {};
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    const [property, value = '', ...source] = line.split('\t');
    props[property] = { value, source: source.join('\t') || '-' };
  }
  return props;
}

/** `zfs list -H -o name -r <ds>` → names, the dataset itself first. */
export function parseZfsList(stdout: string): string[] {
  return stdout.split('\n').filter((l) => l !== '');
}

/** zfs's "does not exist" error, the only non-zero exit a read treats as "absent". */
export function isMissingDataset(stderr: string): boolean {
  return /dataset does not exist/.test(stderr);
}

/** Properties that never follow the parent, so "inherited" cannot apply to them. */
export const NOT_INHERITED: ReadonlySet<string> = new Set([
  'quota',
  'refquota',
  'reservation',
  'refreservation',
  'volsize',
  'volblocksize',
]);

/** A source that is not a local setting: the value follows the parent or the default. */
export function isInheritedSource(source: string): boolean {
  return source.startsWith('inherited') || source === 'default';
}

/**
 * Whether a property needs `zfs set`: the value differs (sizes compared in
 * bytes), or `local` is asked and the value only comes from the parent/default.
 */
export function propertyNeedsSet(
  name: string,
  current: ZfsProperty | undefined,
  wanted: string,
  sourceWanted: 'any' | 'local',
): boolean {
  if (!current) return true;
  if (normalizeValue(name, current.value) !== normalizeValue(name, wanted)) return true;
  return sourceWanted === 'local' && !NOT_INHERITED.has(name) && isInheritedSource(current.source);
}

// zfs_namecheck: components of letters, digits, _ - . : and space; no empty
// component, no leading slash. Snapshots/bookmarks (@ #) are not datasets.
const COMPONENT = /^[A-Za-z0-9_.: -]+$/;

export function datasetNameError(name: string): string | undefined {
  if (name === '') return 'dataset name is empty';
  if (name.startsWith('/') || name.endsWith('/'))
    return `dataset name '${name}' must not start or end with '/' (write pool/dataset, not a path)`;
  if (/[@#]/.test(name)) return `'${name}' is a snapshot or bookmark name, not a dataset`;
  const parts = name.split('/');
  for (const p of parts) {
    if (p === '') return `dataset name '${name}' has an empty component`;
    if (p === '.' || p === '..') return `dataset name '${name}' has a '${p}' component`;
    if (!COMPONENT.test(p))
      return `dataset name '${name}' contains illegal characters (allowed: letters, digits, _ - . : and space)`;
  }
  if (/^[0-9-]/.test(parts[0]) || /^(c[0-9]|log|mirror|raidz[0-9]?|spare|draid[0-9]?)$/.test(parts[0])) {
    return `'${parts[0]}' is not a valid pool name`;
  }
  return undefined;
}

/** The name of a property (native `compression`, or user `module:name`). */
export function propertyNameError(name: string): string | undefined {
  const ok = name.includes(':') ? /^[a-z0-9_.+-][a-z0-9_.:+-]*$/i.test(name) : /^[a-z][a-z0-9_]*$/.test(name);
  return ok
    ? undefined
    : `'${name}' is not a ZFS property name (native names are lowercase words, user properties are 'module:name')`;
}

// Reading OpenZFS CLI output (spec §3): `zfs get -H -p -o property,value,source`
// and `zfs list -H -o name`, and the names and values zfs accepts.
import { canonicalValue, isUserPropertyName, nativeProperty, PROPERTY_ALIASES, type ZfsVersion } from './zfs-props.js';

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
 * Whether a property needs `zfs set`: the value differs in zfs's canonical
 * form (aliases as `zfs get` prints them, sizes in bytes), or `local` is asked
 * and the value only comes from the parent/default.
 */
export function propertyNeedsSet(
  name: string,
  current: ZfsProperty | undefined,
  wanted: string,
  sourceWanted: 'any' | 'local',
  version?: ZfsVersion,
): boolean {
  if (!current) return true;
  if (canonicalValue(name, current.value, version) !== canonicalValue(name, wanted, version)) return true;
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

/**
 * The name of a property zfs_dataset may set on a filesystem: a user property
 * (openzfs zfs_prop.c zfs_prop_user(): a ':' and only a-z 0-9 - _ . :), or a
 * native one that is settable and applies to filesystems (zfs_prop_init()'s
 * type and attribute columns). Unknown native-looking names are left to zfs,
 * which knows its own version's properties.
 */
export function propertyNameError(name: string): string | undefined {
  // zfs reads its arguments with getopt: a name starting with '-' would be taken for an option
  if (name.startsWith('-')) return `'${name}' is not a ZFS property name: zfs would read a leading '-' as an option`;
  if (name.includes(':')) {
    return isUserPropertyName(name)
      ? undefined
      : `'${name}' is not a ZFS user property name (module:property, lowercase letters, digits and - _ . : only)`;
  }
  if (!/^[a-z][a-z0-9_]*$/.test(name))
    return `'${name}' is not a ZFS property name (native names are lowercase words, user properties are 'module:name')`;
  if (PROPERTY_ALIASES[name]) return `'${name}' is a column name; write the property name '${PROPERTY_ALIASES[name]}'`;
  const p = nativeProperty(name);
  if (!p) return undefined;
  if (!p.types.includes('filesystem'))
    return `'${name}' does not apply to filesystems (it is a ${p.types.join('/')} property; zfs_dataset manages filesystems)`;
  if (p.attr === 'readonly') return `'${name}' is readonly`;
  return undefined;
}

/** Properties zfs only takes at creation (PROP_ONETIME): `zfs set` refuses them. */
export function isCreateOnly(name: string): boolean {
  return nativeProperty(name)?.attr === 'onetime';
}

/** The `-t` types of `zfs list` whose entries `zfs destroy` counts as dependents (zfs_main.c destroy_check_dependent). */
export const DESTROY_DEPENDENT_TYPES = 'filesystem,volume,snapshot';

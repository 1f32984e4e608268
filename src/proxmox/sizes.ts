// ZFS property values compared as zfs means them. Sizes: `zfs set quota=1G` and `zfs get -p quota` (→ 1073741824)
// must compare equal. Suffixes are powers of 1024 as in zfs(8); `none` is 0
// for the quota-like properties (what `-p` prints for an unset quota).

const UNITS: Record<string, number> = { '': 0, B: 0, K: 1, M: 2, G: 3, T: 4, P: 5, E: 6, Z: 7 };

/** Properties whose values are byte sizes. */
export const SIZE_PROPERTIES: ReadonlySet<string> = new Set([
  'quota',
  'refquota',
  'reservation',
  'refreservation',
  'volsize',
  'recordsize',
  'volblocksize',
  'special_small_blocks',
]);

/** Size properties where `none` means "no limit" and `-p` prints 0. */
const NONE_IS_ZERO: ReadonlySet<string> = new Set([
  'quota',
  'refquota',
  'reservation',
  'refreservation',
  'special_small_blocks',
]);

/**
 * Parses a human size (`1G`, `1.5T`, `1024M`, `512k`, `1GiB`, `100`) into
 * bytes. Returns undefined for anything else, so the caller can report it.
 */
export function parseSize(text: string): bigint | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([BKMGTPEZ]?)(?:i?B)?\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = UNITS[m[2].toUpperCase()];
  if (unit === undefined) return undefined;
  const [whole, frac = ''] = m[1].split('.');
  // Exact integer arithmetic: 1.5G must be 1610612736, not a float near it.
  const scale = 1024n ** BigInt(unit);
  const denominator = 10n ** BigInt(frac.length);
  const numerator = BigInt(whole + frac) * scale;
  return numerator / denominator; // a fraction of a byte rounds down, as zfs does
}

/**
 * The canonical form of a property value as `zfs get -p` prints it: sizes in
 * bytes, `none` → `0` for quota-likes. Other values are returned unchanged.
 */
export function normalizeValue(property: string, value: string): string {
  if (property === 'mountpoint') return value.length > 1 ? value.replace(/\/+$/, '') : value; // zfs drops a trailing slash
  if (!SIZE_PROPERTIES.has(property)) return value;
  const v = value.trim();
  if (v.toLowerCase() === 'none' && NONE_IS_ZERO.has(property)) return '0';
  const bytes = parseSize(v);
  return bytes === undefined ? v : bytes.toString();
}

/** Whether a wanted value is acceptable for a size property (used for argument errors). */
export function isValidSizeValue(property: string, value: string): boolean {
  if (!SIZE_PROPERTIES.has(property)) return true;
  if (value.trim().toLowerCase() === 'none') return NONE_IS_ZERO.has(property);
  return parseSize(value) !== undefined;
}

export function sameValue(property: string, a: string, b: string): boolean {
  return normalizeValue(property, a) === normalizeValue(property, b);
}

// dpkg's database as the real one keeps it: /var/lib/dpkg/status in deb822
// stanzas (deb-control(5): `Field: value`, continuation lines start with a
// space, stanzas separated by a blank line), /var/lib/dpkg/info/<pkg>.list and
// .conffiles; and apt's package lists under /var/lib/apt/lists.
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { hostPath, readText, writeFileAtomic } from './env.js';
import { type CataloguePackage } from './apt-catalogue.js';

export const STATUS_FILE = '/var/lib/dpkg/status';
export const INFO_DIR = '/var/lib/dpkg/info';
export const LISTS_DIR = '/var/lib/apt/lists';
/** apt-get update's result: one Packages file per source (deb.debian.org, bookworm, main, amd64). */
export const PACKAGES_LIST = `${LISTS_DIR}/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages`;

export type Stanza = Map<string, string>;

export function parseStanzas(text: string): Stanza[] {
  const out: Stanza[] = [];
  let cur: Stanza | null = null;
  let last = '';
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      cur = null;
      continue;
    }
    if (/^[ \t]/.test(line) && cur && last) {
      cur.set(last, `${cur.get(last)}\n${line}`);
      continue;
    }
    const m = /^([^:\s]+):\s?(.*)$/.exec(line);
    if (!m) continue;
    if (!cur) {
      cur = new Map<string, string>();
      out.push(cur);
    }
    cur.set(m[1], m[2]);
    last = m[1];
  }
  return out;
}

export function formatStanzas(stanzas: readonly Stanza[]): string {
  return stanzas.map((s) => [...s].map(([k, v]) => `${k}: ${v}\n`).join('')).join('\n');
}

export function readStatus(): Stanza[] {
  return parseStanzas(readText(STATUS_FILE) ?? '');
}

export function writeStatus(stanzas: readonly Stanza[]): void {
  const sorted = [...stanzas].sort((a, b) => (a.get('Package') ?? '').localeCompare(b.get('Package') ?? ''));
  writeFileAtomic(STATUS_FILE, formatStanzas(sorted));
}

/** The third word of `Status:` (want flag status): installed, config-files, not-installed, … */
export function statusOf(s: Stanza | undefined): string {
  return (s?.get('Status') ?? '').split(' ')[2] ?? 'not-installed';
}

export function findStanza(stanzas: readonly Stanza[], name: string): Stanza | undefined {
  return stanzas.find((s) => s.get('Package') === name);
}

/** The stanza dpkg writes for an installed (or config-files) package. */
export function statusStanza(
  p: CataloguePackage,
  status: 'install ok installed' | 'deinstall ok config-files',
): Stanza {
  const s: Stanza = new Map();
  s.set('Package', p.name);
  s.set('Status', status);
  s.set('Priority', p.priority);
  s.set('Section', p.section);
  s.set('Installed-Size', String(p.installedSize));
  s.set('Maintainer', p.maintainer);
  s.set('Architecture', p.architecture);
  s.set('Version', p.version);
  if (p.depends?.length) s.set('Depends', p.depends.map((d) => `${d} (>= ${versionOnly(p.version)})`).join(', '));
  if (p.suggests?.length) s.set('Suggests', p.suggests.join(', '));
  s.set('Description', p.description);
  return s;
}

/** A Packages-file stanza (what apt-get update downloads). */
export function packagesStanza(p: CataloguePackage): Stanza {
  const s: Stanza = new Map();
  s.set('Package', p.name);
  s.set('Version', p.version);
  s.set('Installed-Size', String(p.installedSize));
  s.set('Maintainer', p.maintainer);
  s.set('Architecture', p.architecture);
  if (p.depends?.length) s.set('Depends', p.depends.join(', '));
  s.set('Description', p.description);
  s.set('Section', p.section);
  s.set('Priority', p.priority);
  s.set('Filename', `pool/main/${p.name[0]}/${p.name}/${debFileName(p)}`);
  s.set('Size', String(p.downloadSize));
  return s;
}

export function debFileName(p: { name: string; version: string; architecture: string }): string {
  return `${p.name}_${versionOnly(p.version)}_${p.architecture}.deb`;
}

/** The version without its epoch (file names and apt's progress lines drop it). */
export function versionOnly(v: string): string {
  return v.replace(/^\d+:/, '');
}

/** Is the package list there (apt-get update ran since the lists were cleaned)? */
export function listsPresent(): boolean {
  try {
    return statSync(hostPath(PACKAGES_LIST)).isFile();
  } catch {
    return false;
  }
}

export function ensureDirs(): void {
  for (const d of [INFO_DIR, LISTS_DIR, '/var/lib/apt/lists/partial', '/var/cache/apt/archives/partial'])
    mkdirSync(hostPath(d), { recursive: true });
}

export function readList(name: string): string[] {
  return (readText(`${INFO_DIR}/${name}.list`) ?? '').split('\n').filter(Boolean);
}

export function writeList(name: string, files: readonly string[]): void {
  writeFileAtomic(`${INFO_DIR}/${name}.list`, files.map((f) => `${f}\n`).join(''));
}

/** A package's files in /var/lib/dpkg/info (every package's without a name). */
export function infoFiles(name?: string): string[] {
  try {
    return readdirSync(hostPath(INFO_DIR))
      .filter((f) => name === undefined || f.startsWith(`${name}.`))
      .map((f) => `${INFO_DIR}/${f}`);
  } catch {
    return [];
  }
}

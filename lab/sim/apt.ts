// apt-get, apt, apt-cache, dpkg-query and dpkg on a lab host or inside a lab
// container, over the catalogue (apt-catalogue.ts) and dpkg's real database
// files (dpkg-db.ts). Messages, output lines and exit codes are apt 2.6's and
// dpkg 1.21's (Debian 12): apt-get(8) DIAGNOSTICS "returns zero on normal
// operation, decimal 100 on error"; 1 when the user (here: no -y and no
// terminal, so YnPrompt reads EOF) declines; dpkg-query(1) EXIT STATUS: 1 when
// a package is not found (the query failed partially), 2 on a usage error.
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, lstatSync, writeFileSync, utimesSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { hostPath, readText, writeFileAtomic, withLock, SimError, out, err } from './env.js';
import { CATALOGUE, cataloguePackage, type CataloguePackage } from './apt-catalogue.js';
import {
  debFileName,
  ensureDirs,
  findStanza,
  formatStanzas,
  infoFiles,
  listsPresent,
  packagesStanza,
  parseStanzas,
  PACKAGES_LIST,
  readList,
  readStatus,
  statusOf,
  statusStanza,
  writeList,
  writeStatus,
  type Stanza,
} from './dpkg-db.js';
import { packageUnitsInstalled, packageUnitsRemoved } from './units.js';

const EXTENDED_STATES = '/var/lib/apt/extended_states';
const MIRROR = 'http://deb.debian.org/debian bookworm/main amd64';

/** apt's SizeToStr: SI units, one decimal below 100 (and above bytes). */
function sizeToStr(bytes: number): string {
  const units = ['', 'k', 'M', 'G'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i > 0 && v < 100 ? `${v.toFixed(1).replace(/\.0$/, '')} ${units[i]}` : `${Math.round(v)} ${units[i]}`;
}

interface AptOptions {
  yes: boolean;
  simulate: boolean;
  purge: boolean;
  autoRemove: boolean;
  quiet: number;
}

/** A package request as apt-get reads it: name[:arch][=version]. */
interface Request {
  name: string;
  version?: string;
  spec: string;
}

function parseRequest(spec: string): Request {
  const m = /^([^=:]+)(?::([a-z0-9-]+))?(?:=(.+))?$/.exec(spec);
  return m ? { name: m[1], version: m[3], spec } : { name: spec, spec };
}

/** Known to apt: in the lists (after apt-get update), or installed (dpkg's status is a source too). */
function known(name: string, status: readonly Stanza[]): CataloguePackage | undefined {
  const p = cataloguePackage(name);
  if (p && listsPresent()) return p;
  const s = findStanza(status, name);
  if (s && statusOf(s) === 'installed') return p ?? stanzaPackage(s);
  return undefined;
}

/** An installed package the catalogue does not have (a local .deb): what its stanza says. */
function stanzaPackage(s: Stanza): CataloguePackage {
  return {
    name: s.get('Package') ?? '',
    version: s.get('Version') ?? '',
    architecture: (s.get('Architecture') as 'all') ?? 'all',
    section: s.get('Section') ?? 'misc',
    priority: 'optional',
    installedSize: Number(s.get('Installed-Size') ?? 0),
    downloadSize: 0,
    maintainer: s.get('Maintainer') ?? '',
    description: (s.get('Description') ?? '').split('\n')[0],
  };
}

function readAuto(): Set<string> {
  const auto = new Set<string>();
  for (const s of parseStanzas(readText(EXTENDED_STATES) ?? ''))
    if (s.get('Auto-Installed') === '1' && s.get('Package')) auto.add(s.get('Package')!);
  return auto;
}

function writeAuto(auto: Set<string>): void {
  const stanzas = [...auto].sort().map(
    (name) =>
      new Map([
        ['Package', name],
        ['Architecture', cataloguePackage(name)?.architecture === 'all' ? 'amd64' : 'amd64'],
        ['Auto-Installed', '1'],
      ]),
  );
  writeFileAtomic(EXTENDED_STATES, formatStanzas(stanzas));
}

function installedNames(status: readonly Stanza[]): Set<string> {
  return new Set(status.filter((s) => statusOf(s) === 'installed').map((s) => s.get('Package')!));
}

function depsOf(name: string): string[] {
  return cataloguePackage(name)?.depends ?? [];
}

/** Auto-installed packages no installed package depends on any more (apt's autoremove set). */
function unneeded(installed: Set<string>, auto: Set<string>): string[] {
  const needed = new Set<string>();
  const visit = (n: string) => {
    if (needed.has(n)) return;
    needed.add(n);
    for (const d of depsOf(n)) if (installed.has(d)) visit(d);
  };
  for (const n of installed) if (!auto.has(n)) visit(n);
  return [...installed].filter((n) => !needed.has(n)).sort();
}

function header(): void {
  out('Reading package lists...\nBuilding dependency tree...\nReading state information...\n');
}

function wrapList(names: readonly string[]): string {
  // apt-get's ShowList: two-space indent, wrapped at the terminal width (80 without one)
  const lines: string[] = [];
  let line = ' ';
  for (const n of names) {
    if (line.length + n.length + 1 > 79 && line.trim()) {
      lines.push(line);
      line = ' ';
    }
    line += ` ${n}`;
  }
  lines.push(line);
  return lines.join('\n') + '\n';
}

function summary(upgraded: number, installed: number, removed: number): string {
  return `${upgraded} upgraded, ${installed} newly installed, ${removed} to remove and 0 not upgraded.\n`;
}

/** No -y and nobody to answer (stdin is not a terminal): apt-get's YnPrompt reads EOF and aborts. */
function declined(): never {
  out('Do you want to continue? [Y/n] Abort.\n');
  throw new SimError('', 1);
}

function dbFileCount(): number {
  let n = 0;
  for (const f of infoFiles().filter((p) => p.endsWith('.list'))) n += (readText(f) ?? '').split('\n').length - 1;
  return 9000 + n;
}

// ---- unpack / remove ---------------------------------------------------------

/** The payload files of a package (relative paths), and its directories, walked from the lab's copy. */
function payloadEntries(p: CataloguePackage): { dir: string; files: string[] } | null {
  if (!p.payload) return null;
  const base = process.env.PHX_LAB_DEBS;
  const dir = base ? join(base, p.payload) : '';
  if (!dir || !existsSync(dir))
    throw new SimError(
      `E: phx-lab: no payload for ${p.name} (${dir || 'PHX_LAB_DEBS unset'}); the lab copies it from this machine's Debian package at \`lab up\` — install nginx-light on this machine`,
      100,
    );
  const files: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(dir, rel)).sort()) {
      const r = `${rel}/${e}`;
      files.push(r);
      if (lstatSync(join(dir, r)).isDirectory()) walk(r);
    }
  };
  walk('');
  return { dir, files };
}

function unpack(p: CataloguePackage): void {
  const payload = payloadEntries(p);
  const files: string[] = ['/.'];
  if (payload) {
    for (const rel of payload.files) {
      const target = hostPath(rel);
      const src = join(payload.dir, rel);
      const st = lstatSync(src);
      if (st.isDirectory()) mkdirSync(target, { recursive: true });
      else if (!existsSync(target) || !isConffile(p, rel)) {
        rmSync(target, { force: true });
        if (st.isSymbolicLink()) cpSync(src, target, { verbatimSymlinks: true });
        else cpSync(src, target);
      }
      files.push(rel);
    }
  }
  for (const f of p.usrFiles ?? []) files.push(f);
  writeList(p.name, files);
  const conffiles = files.filter((f) => isConffile(p, f) && payload && !lstatSync(join(payload.dir, f)).isDirectory());
  if (conffiles.length) writeFileAtomic(`/var/lib/dpkg/info/${p.name}.conffiles`, conffiles.join('\n') + '\n');
}

function isConffile(p: CataloguePackage, path: string): boolean {
  return (p.conffilesUnder ?? []).some((d) => path === d || path.startsWith(d + '/'));
}

/** dpkg --remove: the package's files but its conffiles (and directories still holding something);
 *  --purge: then its conffiles (dpkg keeps their list in info/<pkg>.conffiles), the directories they leave
 *  empty, and what the postrm purges (nginx: its logs and state). */
function removeFiles(name: string, purge: boolean): void {
  const p = cataloguePackage(name);
  const files = readList(name).filter((f) => f !== '/.' && !f.startsWith('/usr/'));
  const conffiles = (readText(`/var/lib/dpkg/info/${name}.conffiles`) ?? '').split('\n').filter(Boolean);
  const gone = purge ? [...files, ...conffiles] : files;
  const dirs = new Set<string>();
  for (const f of [...new Set(gone)].sort().reverse()) {
    const path = hostPath(f);
    let st;
    try {
      st = lstatSync(path);
    } catch {
      continue;
    }
    if (st.isDirectory()) dirs.add(f);
    else if (purge || !p || !isConffile(p, f)) rmSync(path, { force: true });
    for (
      let d = f.replace(/\/[^/]*$/, '');
      d && (!p || isConffile(p, d) || files.includes(d));
      d = d.replace(/\/[^/]*$/, '')
    )
      dirs.add(d);
  }
  const keep = ['/etc', '/var', '/var/www', '/var/log', '/var/lib'];
  for (const d of [...dirs].sort((a, b) => b.length - a.length)) {
    const path = hostPath(d);
    try {
      if (!keep.includes(d) && readdirSync(path).length === 0) rmSync(path, { recursive: true, force: true });
    } catch {
      /* gone already */
    }
  }
  if (purge) for (const d of p?.purgeDirs ?? []) rmSync(hostPath(d), { recursive: true, force: true });
  for (const f of infoFiles(name)) if (purge || !f.endsWith('.conffiles')) rmSync(hostPath(f), { force: true });
}

// ---- apt-get -------------------------------------------------------------------

const NO_ARG = new Map<string, keyof AptOptions | null>([
  ['-y', 'yes'],
  ['--yes', 'yes'],
  ['--assume-yes', 'yes'],
  ['-s', 'simulate'],
  ['--simulate', 'simulate'],
  ['--dry-run', 'simulate'],
  ['--just-print', 'simulate'],
  ['--no-act', 'simulate'],
  ['--purge', 'purge'],
  ['--auto-remove', 'autoRemove'],
  ['--autoremove', 'autoRemove'],
  ['--no-install-recommends', null],
  ['--install-recommends', null],
  ['--allow-downgrades', null],
  ['--allow-unauthenticated', null],
  ['--allow-change-held-packages', null],
  ['--only-upgrade', null],
  ['--no-remove', null],
  ['--force-yes', null],
  ['-f', null],
  ['--fix-broken', null],
  ['-m', null],
  ['--ignore-missing', null],
]);

function parseAptArgs(args: string[]): { opts: AptOptions; command: string | undefined; operands: string[] } {
  const opts: AptOptions = { yes: false, simulate: false, purge: false, autoRemove: false, quiet: 0 };
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      rest.push(...args.slice(i + 1));
      break;
    }
    if (/^-q+$/.test(a)) opts.quiet += a.length - 1;
    else if (a === '--quiet' || a.startsWith('--quiet=')) opts.quiet += 1;
    else if (a === '-o' || a === '--option' || a === '-t' || a === '--target-release' || a === '-c') i++;
    else if (/^-[otc]./.test(a) || a.startsWith('--option=') || a.startsWith('--target-release=')) continue;
    else if (/^-[a-z]{2,}$/.test(a) && [...a.slice(1)].every((c) => NO_ARG.has(`-${c}`) || c === 'q')) {
      for (const c of a.slice(1)) {
        if (c === 'q') opts.quiet++;
        const k = NO_ARG.get(`-${c}`);
        if (k) (opts[k] as boolean) = true;
      }
    } else if (a.startsWith('-')) {
      const k = NO_ARG.get(a);
      if (k === undefined)
        throw new SimError(
          `E: Command line option '${a}' is not understood in combination with the other options`,
          100,
        );
      if (k) (opts[k] as boolean) = true;
    } else rest.push(a);
  }
  return { opts, command: rest[0], operands: rest.slice(1) };
}

function needRoot(): void {
  if (process.getuid?.() !== 0)
    throw new SimError(
      'E: Could not open lock file /var/lib/dpkg/lock-frontend - open (13: Permission denied)\nE: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), are you root?',
      100,
    );
}

export function aptGet(args: string[], flavour: 'apt-get' | 'apt' = 'apt-get'): number {
  if (flavour === 'apt') err('\nWARNING: apt does not have a stable CLI interface. Use with caution in scripts.\n\n');
  const { opts, command, operands } = parseAptArgs(args);
  switch (command) {
    case undefined:
      out(`${flavour} 2.6.1 (amd64)\nUsage: ${flavour} [options] command\n`);
      return 1;
    case 'update':
      if (!opts.simulate) needRoot();
      return withLock(() => update(opts));
    case 'install':
    case 'reinstall':
      if (!opts.simulate) needRoot();
      return withLock(() => install(operands, opts));
    case 'remove':
    case 'purge':
      if (!opts.simulate) needRoot();
      return withLock(() => remove(operands, { ...opts, purge: opts.purge || command === 'purge' }));
    case 'autoremove':
    case 'autopurge':
      if (!opts.simulate) needRoot();
      return withLock(() => remove([], { ...opts, autoRemove: true, purge: opts.purge || command === 'autopurge' }));
    case 'clean':
    case 'autoclean':
      return 0;
    case 'build-dep':
    case 'upgrade':
    case 'dist-upgrade':
    case 'full-upgrade':
      header();
      out('Calculating upgrade... Done\n');
      out(summary(0, 0, 0));
      return 0;
    default:
      throw new SimError(`E: Invalid operation ${command}`, 100);
  }
}

function update(opts: AptOptions): number {
  ensureDirs();
  out(
    'Get:1 http://deb.debian.org/debian bookworm InRelease [151 kB]\n' +
      'Get:2 http://deb.debian.org/debian bookworm-updates InRelease [55.4 kB]\n' +
      'Get:3 http://security.debian.org bookworm-security InRelease [48.0 kB]\n' +
      'Get:4 http://deb.debian.org/debian bookworm/main amd64 Packages [8788 kB]\n' +
      'Fetched 9043 kB in 1s (9043 kB/s)\n' +
      'Reading package lists...\n',
  );
  if (opts.simulate) return 0;
  // apt writes each list under partial/ and renames it into lists/: the directory's mtime is the update's
  // time (Ansible's apt module reads it when there is no update-success-stamp)
  writeFileAtomic(PACKAGES_LIST, formatStanzas(CATALOGUE.map(packagesStanza)));
  return 0;
}

function install(specs: string[], opts: AptOptions): number {
  const status = readStatus();
  const installed = installedNames(status);
  header();
  const errors: string[] = [];
  const wanted: CataloguePackage[] = [];
  for (const spec of specs) {
    const r = parseRequest(spec);
    const p = known(r.name, status);
    if (!p) errors.push(`E: Unable to locate package ${r.name}`);
    else if (r.version !== undefined && r.version !== p.version)
      errors.push(`E: Version '${r.version}' for '${r.name}' was not found`);
    else wanted.push(p);
  }
  if (errors.length) throw new SimError(errors.join('\n'), 100);
  const toInstall: CataloguePackage[] = [];
  const additional: string[] = [];
  const visit = (p: CataloguePackage, requested: boolean) => {
    if (toInstall.includes(p) || installed.has(p.name)) return;
    for (const d of p.depends ?? []) {
      const dp = known(d, status);
      if (!dp) throw new SimError(`E: Unable to correct problems, you have held broken packages.`, 100);
      visit(dp, false);
    }
    toInstall.push(p);
    if (!requested) additional.push(p.name);
  };
  for (const p of wanted) {
    if (installed.has(p.name)) out(`${p.name} is already the newest version (${p.version}).\n`);
    else visit(p, true);
  }
  // a package named on the command line is marked manual even when a dependency pulled it in before
  const auto = readAuto();
  const manual = wanted.filter((p) => auto.has(p.name));
  if (toInstall.length === 0) {
    out(summary(0, 0, 0));
    if (manual.length && !opts.simulate) {
      for (const p of manual) auto.delete(p.name);
      writeAuto(auto);
    }
    return 0;
  }
  if (additional.length) out(`The following additional packages will be installed:\n${wrapList(additional)}`);
  const suggested = [...new Set(toInstall.flatMap((p) => p.suggests ?? []))].filter((s) => !installed.has(s)).sort();
  if (suggested.length) out(`Suggested packages:\n${wrapList(suggested)}`);
  out(`The following NEW packages will be installed:\n${wrapList(toInstall.map((p) => p.name).sort())}`);
  out(summary(0, toInstall.length, 0));
  if (opts.simulate) {
    for (const p of toInstall) out(`Inst ${p.name} (${p.version} Debian:12.11/stable [${p.architecture}])\n`);
    for (const p of toInstall) out(`Conf ${p.name} (${p.version} Debian:12.11/stable [${p.architecture}])\n`);
    return 0;
  }
  const download = toInstall.reduce((n, p) => n + p.downloadSize, 0);
  out(`Need to get ${sizeToStr(download)}B of archives.\n`);
  out(
    `After this operation, ${sizeToStr(toInstall.reduce((n, p) => n + p.installedSize, 0) * 1024)}B of additional disk space will be used.\n`,
  );
  if (!opts.yes && additional.length) declined();
  toInstall.forEach((p, i) =>
    out(`Get:${i + 1} ${MIRROR} ${p.name} ${p.architecture} ${p.version} [${sizeToStr(p.downloadSize)}B]\n`),
  );
  out(`Fetched ${sizeToStr(download)}B in 0s (${sizeToStr(download * 4)}B/s)\n`);
  debconfNotice();
  ensureDirs();
  let count = dbFileCount();
  const next = [...status];
  for (const p of toInstall) {
    out(`Selecting previously unselected package ${p.name}.\n`);
    out(`(Reading database ... ${count} files and directories currently installed.)\n`);
    out(`Preparing to unpack .../${debFileName(p)} ...\nUnpacking ${p.name} (${p.version}) ...\n`);
    unpack(p);
    count += readList(p.name).length;
    const i = next.findIndex((s) => s.get('Package') === p.name);
    if (i >= 0) next.splice(i, 1);
    next.push(statusStanza(p, 'install ok installed'));
    if (additional.includes(p.name)) auto.add(p.name);
    else auto.delete(p.name);
  }
  for (const p of manual) auto.delete(p.name);
  writeStatus(next);
  writeAuto(auto);
  for (const p of toInstall) {
    out(`Setting up ${p.name} (${p.version}) ...\n`);
    out(packageUnitsInstalled(p));
  }
  return 0;
}

/** debconf without DEBIAN_FRONTEND=noninteractive and without a terminal falls back, and says so. */
function debconfNotice(): void {
  if (process.env.DEBIAN_FRONTEND === 'noninteractive') return;
  err(
    'debconf: unable to initialize frontend: Dialog\n' +
      'debconf: (TERM is not set, so the dialog frontend is not usable.)\n' +
      'debconf: falling back to frontend: Readline\n' +
      'debconf: unable to initialize frontend: Readline\n' +
      'debconf: (This frontend requires a controlling tty.)\n' +
      'debconf: falling back to frontend: Teletype\n',
  );
}

function remove(specs: string[], opts: AptOptions): number {
  const status = readStatus();
  const installed = installedNames(status);
  header();
  const errors: string[] = [];
  const targets: string[] = [];
  for (const spec of specs) {
    const r = parseRequest(spec);
    const s = findStanza(status, r.name);
    // apt knows a package from its lists or from dpkg's status
    if (!s && !(cataloguePackage(r.name) && listsPresent())) errors.push(`E: Unable to locate package ${r.name}`);
    else if (statusOf(s) === 'installed' || (opts.purge && statusOf(s) === 'config-files')) targets.push(r.name);
    else out(`Package '${r.name}' is not installed, so not removed\n`);
  }
  if (errors.length) throw new SimError(errors.join('\n'), 100);
  // reverse dependencies go too (nginx-common removed: nginx, which depends on it, cannot stay)
  let grew = true;
  while (grew) {
    grew = false;
    for (const n of installed)
      if (!targets.includes(n) && depsOf(n).some((d) => targets.includes(d))) {
        targets.push(n);
        grew = true;
      }
  }
  const auto = readAuto();
  const left = new Set([...installed].filter((n) => !targets.includes(n)));
  const orphans = unneeded(left, auto);
  if (opts.autoRemove) targets.push(...orphans.filter((n) => !targets.includes(n)));
  else if (orphans.length)
    out(
      `The following package${orphans.length > 1 ? 's were' : ' was'} automatically installed and ${orphans.length > 1 ? 'are' : 'is'} no longer required:\n${wrapList(orphans)}Use '${'apt-get'} autoremove' to remove ${orphans.length > 1 ? 'them' : 'it'}.\n`,
    );
  if (targets.length === 0) {
    out(summary(0, 0, 0));
    return 0;
  }
  targets.sort();
  out(`The following packages will be REMOVED:\n${wrapList(targets.map((n) => (opts.purge ? `${n}*` : n)))}`);
  out(summary(0, 0, targets.length));
  if (opts.simulate) {
    for (const n of targets)
      out(`${opts.purge ? 'Purg' : 'Remv'} ${n} [${findStanza(status, n)?.get('Version') ?? ''}]\n`);
    return 0;
  }
  const freed = targets.reduce((k, n) => k + Number(findStanza(status, n)?.get('Installed-Size') ?? 0), 0);
  out(`After this operation, ${sizeToStr(freed * 1024)}B disk space will be freed.\n`);
  if (!opts.yes) declined();
  out(`(Reading database ... ${dbFileCount()} files and directories currently installed.)\n`);
  let next = [...status];
  // dependents first, as dpkg orders removals
  const order = [...targets].sort((a, b) => Number(depsOf(a).includes(b)) - Number(depsOf(b).includes(a))).reverse();
  order.sort((a, b) => (depsOf(a).includes(b) ? -1 : depsOf(b).includes(a) ? 1 : 0));
  for (const n of order) {
    const s = findStanza(next, n)!;
    if (statusOf(s) === 'installed') {
      out(`Removing ${n} (${s.get('Version')}) ...\n`);
      const p = cataloguePackage(n);
      if (p) out(packageUnitsRemoved(p));
    }
    removeFiles(n, opts.purge);
    next = next.filter((x) => x !== s);
    const p = cataloguePackage(n);
    if (!opts.purge && p && (p.conffilesUnder?.length ?? 0) > 0)
      next.push(statusStanza(p, 'deinstall ok config-files'));
    auto.delete(n);
  }
  if (opts.purge)
    for (const n of order) {
      const s = findStanza(status, n);
      out(`Purging configuration files for ${n} (${s?.get('Version')}) ...\n`);
    }
  writeStatus(next);
  writeAuto(auto);
  return 0;
}

// ---- apt-cache -------------------------------------------------------------------

export function aptCache(args: string[]): number {
  const [command, ...names] = args.filter((a) => !/^-q+$/.test(a));
  if (command !== 'policy' && command !== 'show' && command !== 'madison')
    throw new SimError(`E: Invalid operation ${command ?? ''}`, 100);
  const status = readStatus();
  let missing = false;
  for (const name of names) {
    const p = known(name, status);
    const s = findStanza(status, name);
    if (!p) {
      err(`N: Unable to locate package ${name}\n`);
      missing = true;
      continue;
    }
    const inst = statusOf(s) === 'installed' ? s!.get('Version')! : undefined;
    if (command === 'show') {
      out(formatStanzas([packagesStanza(p)]) + '\n');
      continue;
    }
    if (command === 'madison') {
      out(`${name.padStart(10)} | ${p.version} | ${MIRROR.replace(' amd64', '')} amd64 Packages\n`);
      continue;
    }
    const inLists = listsPresent() && cataloguePackage(name) !== undefined;
    out(`${name}:\n  Installed: ${inst ?? '(none)'}\n  Candidate: ${p.version}\n  Version table:\n`);
    out(`${inst === p.version ? ' *** ' : '     '}${p.version} ${inLists ? 500 : 100}\n`);
    if (inLists) out(`        500 ${MIRROR} Packages\n`);
    if (inst === p.version) out('        100 /var/lib/dpkg/status\n');
  }
  if (command === 'show' && missing) throw new SimError('E: No packages found', 100);
  return 0;
}

// ---- dpkg-query / dpkg ----------------------------------------------------------------

const DEFAULT_SHOWFORMAT = '${binary:Package}\\t${Version}\\n';

/** dpkg-query's --showformat: ${Field} and ${Field;width}, backslash escapes \n \t \\. */
function showFormat(format: string, s: Stanza): string {
  const unescaped = format.replace(/\\([nt\\])/g, (_m, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : '\\'));
  return unescaped.replace(/\$\{([^};]+)(?:;(-?\d+))?\}/g, (_m, field: string, width?: string) => {
    let v: string;
    const st = (s.get('Status') ?? 'unknown ok not-installed').split(' ');
    if (field === 'binary:Package') v = s.get('Package') ?? '';
    else if (field === 'db:Status-Abbrev')
      v = `${{ install: 'i', deinstall: 'r', purge: 'p', hold: 'h', unknown: 'u' }[st[0]] ?? 'u'}${{ installed: 'i', 'config-files': 'c', 'not-installed': 'n', unpacked: 'U', 'half-installed': 'H' }[st[2]] ?? 'n'} `;
    else if (field === 'db:Status-Want') v = st[0];
    else if (field === 'db:Status-Status') v = st[2];
    else v = s.get(field) ?? '';
    if (width) v = Number(width) < 0 ? v.padEnd(-Number(width)) : v.padStart(Number(width));
    return v;
  });
}

export function dpkgQuery(args: string[], prog = 'dpkg-query'): number {
  let action: string | undefined;
  let format = DEFAULT_SHOWFORMAT;
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-W' || a === '--show') action = 'show';
    else if (a === '-s' || a === '--status') action = 'status';
    else if (a === '-l' || a === '--list') action = 'list';
    else if (a === '-L' || a === '--listfiles') action = 'listfiles';
    else if (a === '-f' || a === '--showformat') format = args[++i] ?? '';
    else if (a.startsWith('--showformat=')) format = a.slice(13);
    else if (a.startsWith('-f') && a.length > 2) format = a.slice(2);
    else if (a === '--') {
      names.push(...args.slice(i + 1));
      break;
    } else if (a.startsWith('-'))
      throw new SimError(
        `${prog}: error: unknown option ${a}\n\nType ${prog} --help for help about querying packages.`,
        2,
      );
    else names.push(a);
  }
  if (!action)
    throw new SimError(
      `${prog}: error: need an action option\n\nType ${prog} --help for help about querying packages.`,
      2,
    );
  const status = readStatus();
  let rc = 0;
  if (action === 'show' || action === 'list') {
    const chosen = names.length
      ? names.map((n) => ({ n, s: status.find((s) => globMatch(n, s.get('Package') ?? '')) }))
      : status.map((s) => ({ n: s.get('Package')!, s }));
    if (action === 'list' && chosen.some((c) => c.s))
      out(
        'Desired=Unknown/Install/Remove/Purge/Hold\n| Status=Not/Inst/Conf-files/Unpacked/halF-conf/Half-inst/trig-aWait/Trig-pend\n|/ Err?=(none)/Reinst-required (Status,Err: uppercase=bad)\n||/ Name           Version      Architecture Description\n+++-==============-============-============-=================================\n',
      );
    for (const { n, s } of chosen) {
      if (!s) {
        err(`${prog}: no packages found matching ${n}\n`);
        rc = 1;
        continue;
      }
      for (const m of names.length ? status.filter((x) => globMatch(n, x.get('Package') ?? '')) : [s]) {
        if (action === 'show') out(showFormat(format, m));
        else
          out(
            `${showFormat('${db:Status-Abbrev}', m).trim().padEnd(3)} ${(m.get('Package') ?? '').padEnd(14)} ${(m.get('Version') ?? '').padEnd(12)} ${(m.get('Architecture') ?? '').padEnd(12)} ${(m.get('Description') ?? '').split('\n')[0]}\n`,
          );
      }
    }
    return rc;
  }
  for (const n of names) {
    const s = findStanza(status, n);
    if (!s || statusOf(s) === 'not-installed') {
      err(
        action === 'status'
          ? `${prog}: package '${n}' is not installed and no information is available\nUse dpkg --info (= dpkg-deb --info) to examine archive files.\n`
          : `${prog}: package '${n}' is not installed\nUse dpkg --contents (= dpkg-deb --contents) to list archive files contents.\n`,
      );
      rc = 1;
      continue;
    }
    if (action === 'status') out(formatStanzas([s]) + '\n');
    else out(readList(n).join('\n') + '\n');
  }
  return rc;
}

function globMatch(pattern: string, name: string): boolean {
  if (!/[*?[]/.test(pattern)) return pattern === name;
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(name);
}

/** dpkg: -i (install a .deb: its control data is read with the real dpkg-deb; the lab records the
 *  package and its file list but unpacks nothing, so a .deb cannot write into the machine's /usr),
 *  -r/-P, --print-architecture; the query actions are dpkg-query's. */
export function dpkg(args: string[]): number {
  const ACTIONS = [
    '--print-architecture',
    '-W',
    '--show',
    '-s',
    '--status',
    '-l',
    '--list',
    '-L',
    '--listfiles',
    '-i',
    '--install',
  ];
  const action = args.find((a) => ACTIONS.includes(a));
  if (action === '--print-architecture') {
    out('amd64\n');
    return 0;
  }
  if (['-W', '--show', '-s', '--status', '-l', '--list', '-L', '--listfiles'].includes(action ?? ''))
    return dpkgQuery(args, 'dpkg-query');
  if (action === '-i' || action === '--install') {
    const files = args.filter((a) => !a.startsWith('-'));
    for (const a of args)
      if (
        a.startsWith('-') &&
        !['-i', '--install', '--simulate', '--dry-run', '--no-act'].includes(a) &&
        !a.startsWith('--force-')
      )
        throw new SimError(
          `dpkg: error: unknown option ${a}\n\nType dpkg --help for help about installing and deinstalling packages [*];`,
          2,
        );
    const simulate = args.includes('--simulate') || args.includes('--dry-run') || args.includes('--no-act');
    if (files.length === 0)
      throw new SimError(
        "dpkg: error: --install needs at least one package archive file argument\n\nType dpkg --help for help about installing and deinstalling packages [*];\nUse 'apt' or 'aptitude' for user-friendly package management;\nType dpkg -Dhelp for a list of dpkg debug flag values;\nType dpkg --force-help for a list of forcing options;\nType dpkg-deb --help for help about manipulating *.deb files;\n\nOptions marked [*] produce a lot of output - pipe it through 'less' or 'more' !",
        2,
      );
    if (!simulate) needRoot();
    return withLock(() => installDebs(files, simulate));
  }
  throw new SimError(
    `dpkg: error: need an action option\n\nType dpkg --help for help about installing and deinstalling packages [*];`,
    2,
  );
}

function installDebs(files: string[], simulate: boolean): number {
  let status = readStatus();
  const failed: string[] = [];
  for (const f of files) {
    if (!existsSync(hostPath(f))) {
      throw new SimError(`dpkg: error: cannot access archive '${f}': No such file or directory`, 2);
    }
    const r = spawnSync('dpkg-deb', ['--field', hostPath(f)], { encoding: 'utf8' });
    const control = r.status === 0 ? parseStanzas(r.stdout)[0] : undefined;
    if (!control?.get('Package') || !control.get('Version')) {
      err(
        `${r.stderr || `dpkg-deb: error: '${f}' is not a Debian format archive\n`}dpkg: error processing archive ${f} (--install):\n dpkg-deb --control subprocess returned error exit status 2\n`,
      );
      failed.push(f);
      continue;
    }
    const name = control.get('Package')!;
    const version = control.get('Version')!;
    if (simulate) continue;
    const before = findStanza(status, name);
    out(
      before && statusOf(before) === 'installed'
        ? `(Reading database ... ${dbFileCount()} files and directories currently installed.)\nPreparing to unpack ${f} ...\nUnpacking ${name} (${version}) over (${before.get('Version')}) ...\n`
        : `Selecting previously unselected package ${name}.\n(Reading database ... ${dbFileCount()} files and directories currently installed.)\nPreparing to unpack ${f} ...\nUnpacking ${name} (${version}) ...\n`,
    );
    const listing = spawnSync('dpkg-deb', ['--fsys-tarfile', hostPath(f)], { encoding: 'buffer' });
    const tar = spawnSync('tar', ['-t'], { input: listing.stdout, encoding: 'utf8' });
    writeList(
      name,
      tar.stdout
        .split('\n')
        .filter(Boolean)
        .map((p) => p.replace(/^\.\/?/, '/').replace(/\/$/, '') || '/.'),
    );
    const s: Stanza = new Map();
    s.set('Package', name);
    s.set('Status', 'install ok installed');
    for (const k of [
      'Priority',
      'Section',
      'Installed-Size',
      'Maintainer',
      'Architecture',
      'Version',
      'Depends',
      'Description',
    ])
      if (control.get(k) !== undefined) s.set(k, control.get(k)!);
    status = [...status.filter((x) => x.get('Package') !== name), s];
    writeStatus(status);
    out(`Setting up ${name} (${version}) ...\n`);
  }
  if (failed.length) {
    err(`Errors were encountered while processing:\n${failed.map((f) => ` ${f}\n`).join('')}`);
    return 1;
  }
  return 0;
}

/** For the lab's seeding: the status and lists of a fresh root (`lists`: apt-get update already ran). */
export function seedPackages(root: string, names: readonly string[], lists: boolean, listsMtime?: Date): void {
  const status = names.map((n) => statusStanza(cataloguePackage(n)!, 'install ok installed'));
  const dpkgDir = join(root, 'var/lib/dpkg');
  for (const d of ['info', 'updates', 'alternatives']) mkdirSync(join(dpkgDir, d), { recursive: true });
  for (const d of ['var/lib/apt/lists/partial', 'var/cache/apt/archives/partial'])
    mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(dpkgDir, 'status'), formatStanzas(status));
  for (const n of names) writeFileSync(join(dpkgDir, 'info', `${n}.list`), '/.\n');
  if (lists) writeFileSync(join(root, PACKAGES_LIST), formatStanzas(CATALOGUE.map(packagesStanza)));
  if (listsMtime) {
    utimesSync(join(root, 'var/lib/apt/lists/partial'), listsMtime, listsMtime);
    utimesSync(join(root, 'var/lib/apt/lists'), listsMtime, listsMtime);
  }
}

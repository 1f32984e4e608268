// Services that packages bring, and systemctl inside a lab container. A
// Debian package's postinst enables and starts its units (deb-systemd-helper,
// deb-systemd-invoke); its prerm stops them. On a lab hypervisor the units live
// in systemd.ts's state (/var/lib/phx-lab/systemd.json); inside a container
// (PHX_LAB_GUEST=ct) as systemd keeps them on disk: enabled = the
// multi-user.target.wants symlink, masked = a /dev/null symlink in
// /etc/systemd/system, plus the lab's "running" markers in /run/phx-lab/units
// (reset by `pct start`, which starts the enabled units as boot would).
import {
  appendFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { spawnSync } from 'node:child_process';
import { basename, dirname } from 'node:path';
import { hostPath, readJson, writeJson, STATE_DIR, SimError, out, err, withLock } from './env.js';
import { CATALOGUE, type CataloguePackage } from './apt-catalogue.js';
import { readStatus, statusOf } from './dpkg-db.js';

const inGuest = () => Boolean(process.env.PHX_LAB_GUEST);
const WANTS = '/etc/systemd/system/multi-user.target.wants';
const RUN = '/run/phx-lab/units';
const JOURNAL = '/var/log/phx-lab-systemctl.log';
const wantsLink = (u: string) => `${WANTS}/${u}.service`;
const maskLink = (u: string) => `/etc/systemd/system/${u}.service`;
const unitFile = (u: string) => `/lib/systemd/system/${u}.service`;

interface HostUnit {
  active: boolean;
  since: number;
  enabled: boolean;
}

function isLink(p: string, to?: string): boolean {
  try {
    return lstatSync(hostPath(p)).isSymbolicLink() && (to === undefined || readlinkSync(hostPath(p)) === to);
  } catch {
    return false;
  }
}

/** Runs the unit's config test (nginx -t) if it has one; its output is what systemd would log. */
function configTestFails(p: CataloguePackage | undefined): { stderr: string } | null {
  if (!p?.configTest) return null;
  const [prog, ...args] = p.configTest;
  const debs = process.env.PHX_LAB_DEBS;
  // in a container: the real program in a network namespace of its own (see hostfs.ts writeUsrHide);
  // the copy, because the container's /usr shows the program only from its next command on
  const r =
    inGuest() && debs
      ? spawnSync('unshare', ['--net', '--', `${debs}/bin/${basename(prog)}`, ...args], { encoding: 'utf8' })
      : spawnSync(prog, args, { encoding: 'utf8' });
  return r.status === 0 ? null : { stderr: (r.stderr ?? '') + (r.error ? String(r.error.message) : '') };
}

function packageOfUnit(u: string): CataloguePackage | undefined {
  return CATALOGUE.find((p) => p.units?.includes(u));
}

/** postinst: enable and start each unit (a masked unit is neither). Returns what dpkg shows. */
export function packageUnitsInstalled(p: CataloguePackage): string {
  let text = '';
  for (const u of p.units ?? []) {
    if (!inGuest()) {
      const file = `${STATE_DIR}/systemd.json`;
      const units = readJson<Record<string, HostUnit>>(file, {});
      units[u] = { active: true, since: Date.now(), enabled: true };
      writeJson(file, units);
      text += `Created symlink ${wantsLink(u)} → ${unitFile(u)}.\n`;
      continue;
    }
    if (isLink(maskLink(u), '/dev/null')) continue;
    mkdirSync(hostPath(WANTS), { recursive: true });
    if (!isLink(wantsLink(u))) {
      symlinkSync(unitFile(u), hostPath(wantsLink(u)));
      text += `Created symlink ${wantsLink(u)} → ${unitFile(u)}.\n`;
    }
    if (!configTestFails(p)) markActive(u, true);
  }
  return text;
}

/** prerm/postrm: the units stop and, their unit files gone, are not found any more. */
export function packageUnitsRemoved(p: CataloguePackage): string {
  for (const u of p.units ?? []) {
    if (!inGuest()) {
      const file = `${STATE_DIR}/systemd.json`;
      const units = readJson<Record<string, HostUnit>>(file, {});
      delete units[u];
      writeJson(file, units);
      continue;
    }
    markActive(u, false);
    rmSync(hostPath(wantsLink(u)), { force: true });
  }
  return '';
}

function markActive(u: string, active: boolean): void {
  const p = hostPath(`${RUN}/${u}`);
  if (active) {
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, `${Math.floor(Date.now() / 1000)}\n`);
  } else rmSync(p, { force: true });
}

function journal(verb: string, u: string): void {
  const p = hostPath(JOURNAL);
  mkdirSync(dirname(p), { recursive: true });
  appendFileSync(p, `${new Date().toISOString().slice(0, 19)}Z ${verb} ${u}\n`);
}

/** Units a container knows: those of its installed packages (their unit files are installed). */
function guestUnits(): Set<string> {
  const set = new Set<string>();
  for (const s of readStatus())
    if (statusOf(s) === 'installed')
      for (const u of CATALOGUE.find((p) => p.name === s.get('Package'))?.units ?? []) set.add(u);
  return set;
}

const jobFailed = (svc: string) =>
  `Job for ${svc} failed because the control process exited with error code.\nSee "systemctl status ${svc}" and "journalctl -xeu ${svc}" for details.\n`;

/** systemctl inside a lab container (systemd 252's messages and exit codes, LSB's for is-active/status). */
export function guestSystemctl(args: string[]): number {
  const props: string[] = [];
  const rest: string[] = [];
  let quiet = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      rest.push(...args.slice(i + 1));
      break;
    } else if (a === '-p' || a === '--property') props.push(...(args[++i] ?? '').split(','));
    else if (a.startsWith('--property=')) props.push(...a.slice(11).split(','));
    else if (a.startsWith('-p') && a.length > 2) props.push(...a.slice(2).split(','));
    else if (a === '-q' || a === '--quiet') quiet = true;
    else if (
      a === '--system' ||
      a === '--no-pager' ||
      a === '--no-block' ||
      a === '--now' ||
      a === '-l' ||
      a === '--full'
    ) {
      if (a === '--now') rest.push('--now');
    } else if (a.startsWith('-')) throw new SimError(`systemctl: unrecognized option '${a}'`, 1);
    else rest.push(a);
  }
  const now = rest.includes('--now');
  const [verb, ...names] = rest.filter((a) => a !== '--now');
  if (!verb) throw new SimError('Too few arguments.', 1);
  if (verb === 'daemon-reload' || verb === 'daemon-reexec') return 0;
  if (names.length === 0) throw new SimError('Too few arguments.', 1);
  return withLock(() => {
    const known = guestUnits();
    let rc = 0;
    for (const arg of names) {
      const u = arg.replace(/\.service$/, '');
      const svc = `${u}.service`;
      const exists = known.has(u);
      const masked = isLink(maskLink(u), '/dev/null');
      const enabled = isLink(wantsLink(u));
      const active = existsSync(hostPath(`${RUN}/${u}`));
      const failed = existsSync(hostPath(`${RUN}/${u}.failed`));
      const fileState = masked ? 'masked' : exists ? (enabled ? 'enabled' : 'disabled') : '';
      const start = (): boolean => {
        const bad = configTestFails(packageOfUnit(u));
        if (bad) {
          err(jobFailed(svc));
          markActive(u, false);
          writeFileSync(hostPath(`${RUN}/${u}.failed`), bad.stderr);
          return false;
        }
        rmSync(hostPath(`${RUN}/${u}.failed`), { force: true });
        markActive(u, true);
        return true;
      };
      switch (verb) {
        case 'is-active':
          if (!quiet) out(active ? 'active\n' : failed ? 'failed\n' : 'inactive\n');
          if (!active) rc = 3;
          break;
        case 'is-failed':
          if (!quiet) out(active ? 'active\n' : failed ? 'failed\n' : 'inactive\n');
          if (!failed) rc = 1;
          break;
        case 'is-enabled':
          if (!exists && !masked) {
            err(`Failed to get unit file state for ${svc}: No such file or directory\n`);
            rc = 1;
          } else {
            if (!quiet) out(`${fileState}\n`);
            if (fileState !== 'enabled') rc = 1;
          }
          break;
        case 'status':
          if (!exists) {
            err(`Unit ${svc} could not be found.\n`);
            rc = 4;
            break;
          }
          out(
            `${active ? '●' : '○'} ${svc}\n     Loaded: ${masked ? 'masked (Reason: Unit ' + u + '.service is masked.)' : `loaded (${unitFile(u)}; ${fileState}; preset: enabled)`}\n     Active: ${active ? 'active (running)' : failed ? 'failed (Result: exit-code)' : 'inactive (dead)'}\n`,
          );
          if (failed) out(failureLog(u));
          if (!active) rc = 3;
          break;
        case 'show': {
          const all: Record<string, string> = {
            Id: svc,
            Names: svc,
            LoadState: masked ? 'masked' : exists ? 'loaded' : 'not-found',
            ActiveState: active ? 'active' : failed ? 'failed' : 'inactive',
            SubState: active ? 'running' : failed ? 'failed' : 'dead',
            UnitFileState: fileState,
            FragmentPath: exists && !masked ? unitFile(u) : '',
          };
          for (const [k, v] of Object.entries(all)) if (props.length === 0 || props.includes(k)) out(`${k}=${v}\n`);
          break;
        }
        case 'start':
        case 'restart':
        case 'reload':
        case 'reload-or-restart':
        case 'try-restart':
        case 'stop': {
          if (!exists) {
            err(`Failed to ${verb} ${svc}: Unit ${svc} not found.\n`);
            rc = 5;
            break;
          }
          if (masked && verb !== 'stop') {
            err(`Failed to ${verb} ${svc}: Unit ${svc} is masked.\n`);
            rc = 1;
            break;
          }
          if (verb === 'stop') markActive(u, false);
          else if (verb === 'reload') {
            if (!active) {
              err(`${svc} is not active, cannot reload.\n`);
              rc = 1;
              continue;
            }
            // ExecReload (nginx -s reload) parses the configuration first and fails on a bad one;
            // the running service keeps its old configuration
            if (configTestFails(packageOfUnit(u))) {
              err(jobFailed(svc));
              rc = 1;
            }
          } else if (verb === 'try-restart' && !active) break;
          else if (verb === 'start' && active) break;
          else if (!start()) rc = 1;
          journal(verb, u);
          break;
        }
        case 'enable':
        case 'disable':
          if (!exists) {
            err(`Failed to ${verb} unit: Unit file ${svc} does not exist.\n`);
            rc = 1;
            break;
          }
          if (verb === 'enable' && masked) {
            err(`Failed to enable unit: Unit file ${maskLink(u)} is masked.\n`);
            rc = 1;
            break;
          }
          if (verb === 'enable' && !enabled) {
            mkdirSync(hostPath(WANTS), { recursive: true });
            symlinkSync(unitFile(u), hostPath(wantsLink(u)));
            err(`Created symlink ${wantsLink(u)} → ${unitFile(u)}.\n`);
          } else if (verb === 'disable' && enabled) {
            rmSync(hostPath(wantsLink(u)), { force: true });
            err(`Removed "${wantsLink(u)}".\n`);
          }
          if (now && verb === 'enable' && !active && !start()) rc = 1;
          if (now && verb === 'disable') markActive(u, false);
          journal(verb, u);
          break;
        case 'mask':
          if (!masked) {
            mkdirSync(hostPath('/etc/systemd/system'), { recursive: true });
            rmSync(hostPath(maskLink(u)), { force: true });
            symlinkSync('/dev/null', hostPath(maskLink(u)));
            err(`Created symlink ${maskLink(u)} → /dev/null.\n`);
          }
          journal(verb, u);
          break;
        case 'unmask':
          if (masked) {
            rmSync(hostPath(maskLink(u)), { force: true });
            err(`Removed "${maskLink(u)}".\n`);
          }
          journal(verb, u);
          break;
        default:
          throw new SimError(`Unknown command verb ${verb}.`, 1);
      }
    }
    return rc;
  });
}

function failureLog(u: string): string {
  try {
    return readFileSync(hostPath(`${RUN}/${u}.failed`), 'utf8');
  } catch {
    return '';
  }
}

/** `pct start`: boot starts the enabled units (a container's units run while it runs). */
export function bootUnits(rootfs: string): string[] {
  try {
    return readdirSync(`${rootfs}${WANTS}`)
      .filter((f) => f.endsWith('.service'))
      .map((f) => f.slice(0, -8));
  } catch {
    return [];
  }
}

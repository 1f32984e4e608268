// Runs a command "inside" a guest: a fresh mount namespace in which the guest's
// mount points are bound into its root directory, then chroot. For an
// unprivileged container the command also runs in a user namespace with the
// container's id map (root inside = host uid 100000), so chown/stat/permission
// checks behave like in a real LXC container.
import { spawn } from 'node:child_process';
import { readlinkSync, writeFileSync } from 'node:fs';
import type { IdMapEntry } from './lxc-conf.js';

export interface Bind {
  src: string; // machine path
  dst: string; // path inside the guest
  ro?: boolean;
  recursive?: boolean;
  /** read-only overlay layers laid over src (their whiteouts hide files of src: programs of packages not installed) */
  hide?: string[];
}

export interface IsolateOptions {
  rootfs: string; // machine path
  binds: Bind[];
  idmap: IdMapEntry[] | null;
  argv: string[];
  env: Record<string, string>;
  /** owner (host uid:gid) for mount-target directories the setup has to create */
  targetOwner?: string;
  /** 'inherit', or the bytes to feed (a Buffer, so that no content can be mistaken for 'inherit') */
  stdin?: 'inherit' | Buffer;
  capture?: boolean;
  timeoutMs?: number;
  /** already inside an isolated guest (a chroot): keep the (private) propagation of the parent namespace */
  nested?: boolean;
}

export interface IsolateResult {
  rc: number;
  signal: string | null;
  stdout: Buffer;
  stderr: Buffer;
  timedOut: boolean;
  pid: number;
}

function sq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The standard binds every guest gets: the host's /usr (read-only), /dev and /proc. */
export function systemBinds(): Bind[] {
  return [
    { src: '/usr', dst: '/usr', ro: true },
    { src: '/dev', dst: '/dev', recursive: true },
    { src: '/proc', dst: '/proc', recursive: true },
  ];
}

export function runIsolated(o: IsolateOptions): Promise<IsolateResult> {
  const root = o.rootfs.replace(/\/+$/, '');
  const lines = ['set -e'];
  for (const b of o.binds) {
    const target = root + b.dst;
    // every missing directory on the way is made and given to the guest's root, as pve-container's
    // walk_tree_nofollow_fd (src/PVE/LXC.pm, called by __mount_prepare_rootdir) mkdirs and chowns each component
    let path = root;
    for (const part of b.dst.split('/').filter(Boolean)) {
      path += `/${part}`;
      lines.push(
        `if [ ! -e ${sq(path)} ]; then mkdir ${sq(path)}${o.targetOwner ? `; chown ${o.targetOwner} ${sq(path)}` : ''}; fi`,
      );
    }
    if (b.hide?.length) {
      // without overlayfs the plain read-only bind (the programs are then visible, installed or not)
      lines.push(
        `mount -t overlay phx-lab-hide -o ${sq(`lowerdir=${[...b.hide, b.src].join(':')}`)} ${sq(target)} 2>/dev/null || { mount --bind ${sq(b.src)} ${sq(target)} && mount -o remount,bind,ro ${sq(target)}; }`,
      );
      continue;
    }
    lines.push(`mount ${b.recursive ? '--rbind' : '--bind'} ${sq(b.src)} ${sq(target)}`);
    if (b.ro) lines.push(`mount -o remount,bind,ro ${sq(target)}`);
  }
  const cmd = o.argv.map(sq).join(' ');
  const uRoot = o.idmap?.find((m) => m.kind === 'u' && m.ctStart === 0);
  const gRoot = o.idmap?.find((m) => m.kind === 'g' && m.ctStart === 0);
  if (o.idmap) {
    // unshare(CLONE_NEWUSER) is refused inside a chroot, so: drop to the mapped root, new user
    // namespace, wait on fd 3 until the parent has written the maps, then chroot (with caps again).
    // The guest root may sit below a directory the mapped root cannot enter (a 0700 temp dir):
    // bind it at /mnt of this private namespace, which anybody can traverse.
    lines.push(`mount --rbind ${sq(root)} /mnt`);
    lines.push(
      `exec setpriv --reuid=${uRoot?.hostStart ?? 65534} --regid=${gRoot?.hostStart ?? 65534} --clear-groups -- unshare --user -- /bin/sh -c 'read _ <&3; exec 3<&-; exec chroot /mnt "$@"' sh ${cmd}`,
    );
  } else lines.push(`exec 3<&-; exec chroot ${sq(root)} ${cmd}`);

  const child = spawn(
    'unshare',
    ['--mount', '--propagation', o.nested ? 'unchanged' : 'private', '--', '/bin/sh', '-c', lines.join('\n')],
    {
      stdio: [
        o.stdin === 'inherit' ? 'inherit' : 'pipe',
        o.capture ? 'pipe' : 'inherit',
        o.capture ? 'pipe' : 'inherit',
        'pipe',
      ],
      // marks every guest process with the lab host it belongs to, so `lab down` finds daemonised ones too
      env: { ...o.env, PHX_LAB_HOST_NS: process.env.PHX_LAB_HOST_NS ?? readlinkSync('/proc/self/ns/mnt') },
    },
  );
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout?.on('data', (d: Buffer) => stdout.push(d));
  child.stderr?.on('data', (d: Buffer) => stderr.push(d));
  if (o.stdin !== 'inherit' && child.stdin) {
    child.stdin.on('error', () => undefined);
    child.stdin.end(o.stdin ?? '');
  }
  const sync = child.stdio[3] as NodeJS.WritableStream & { on: (e: string, f: () => void) => void };
  sync.on('error', () => undefined);
  let timedOut = false;
  const timer = o.timeoutMs
    ? setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, o.timeoutMs)
    : undefined;

  if (o.idmap && child.pid) {
    const pid = child.pid;
    const mine = readlinkSync('/proc/self/ns/user');
    const writeMaps = () => {
      for (let i = 0; i < 2000; i++) {
        let ns: string;
        try {
          ns = readlinkSync(`/proc/${pid}/ns/user`);
        } catch {
          return; // exited (setup failed)
        }
        if (ns !== mine) break;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
      }
      const fmt = (k: 'u' | 'g') =>
        o
          .idmap!.filter((m) => m.kind === k)
          .map((m) => `${m.ctStart} ${m.hostStart} ${m.count}\n`)
          .join('');
      try {
        writeFileSync(`/proc/${pid}/uid_map`, fmt('u'));
        writeFileSync(`/proc/${pid}/gid_map`, fmt('g'));
      } catch {
        /* the child died meanwhile */
      }
      sync.end('go\n');
    };
    setImmediate(writeMaps);
  } else sync.end();

  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({
        rc: code ?? 128 + 9,
        signal,
        stdout: Buffer.concat(stdout),
        stderr: Buffer.concat(stderr),
        timedOut,
        pid: child.pid ?? 0,
      });
    });
    child.on('error', () =>
      resolve({
        rc: 127,
        signal: null,
        stdout: Buffer.alloc(0),
        stderr: Buffer.from('cannot start unshare\n'),
        timedOut,
        pid: 0,
      }),
    );
  });
}

// Writes file content on the host in one command: the bytes travel on stdin
// into a temp file beside the destination, which gets its owner and mode (and
// passes `validate`) before an atomic rename, so nobody ever sees a
// half-written or wrongly permissioned file:
// - the temp file (`.<name>.phx-<random>`) is created exclusively (noclobber:
//   never through someone's symlink) under umask 077, so it is 0600 while the
//   content arrives, and the script keeps it open on fd 3;
// - dd writes it with conv=fsync (coreutils' dd everywhere; `sync FILE` needs
//   coreutils 8.24, and dd spares a process), so after a crash the renamed
//   file has its content, not zero bytes;
// - its size must be the content's length: when the link is cut or the CLI
//   killed, the host sees end-of-input, and a short temp file is removed
//   instead of renamed over the old file;
// - chown (first: it clears setuid bits) and chmod go through
//   /proc/self/fd/3, i.e. exactly the file we created, even if someone who
//   can write the directory swaps the temp name for a symlink meanwhile;
// - with an owner or group to give, the directory must be the real one
//   (`pwd -P`): a symlink on the way, which a container root could swap in
//   its volume, would let it choose where a file it owns lands on the host.
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { shellJoin, shellQuote } from '../quote.js';
import { safePath } from './probe.js';
import { ModuleError } from '../module.js';
import { shlexSplit } from './shlex.js';

export interface WriteOptions {
  /** permission bits for the result */
  mode: number;
  /** length of the content on stdin: anything else that arrives is a cut transfer */
  size: number;
  /** chown to these ids (omit to keep the writer's) */
  uid?: number;
  gid?: number;
  /** copy the current destination here first (cp -p) */
  backupTo?: string;
  /** Ansible's validate: a command with %s for the temp file; it must succeed before the rename */
  validate?: string;
  /** create the destination's directory first (copy to `dir/`) */
  mkdirParent?: boolean;
  /** read exactly `size` bytes of stdin (several files in one stream) instead of all of it */
  exactStdin?: boolean;
}

/** The temp file's name beside `name`: recognisable, and unguessable before it exists. */
export function tempName(name: string): string {
  return `.${name.slice(0, 40)}.phx-${randomBytes(6).toString('hex')}`;
}

/** sh script that reads the new content from stdin and puts it at `dest`. */
export function writeFileScript(dest: string, o: WriteOptions): string {
  const path = posix.normalize(dest);
  const dir = posix.dirname(path);
  const name = posix.basename(path);
  const tmp = tempName(name);
  const [d, t, n] = [shellQuote(safePath(dir)), shellQuote(`./${tmp}`), shellQuote(`./${name}`)];
  const fd = '/proc/self/fd/3';
  const read =
    o.exactStdin && o.size === 0
      ? ':' // nothing to read, nothing to sync
      : o.exactStdin
        ? // fullblock: dd keeps reading until it has all N bytes, and never reads past them
          `dd bs=${o.size} count=1 iflag=fullblock conv=fsync status=none >&3`
        : 'dd bs=65536 conv=fsync status=none >&3';
  const cut = shellQuote(`phx-play: ${path}: the content did not arrive whole (connection cut?); the old file is kept`);
  // removed before the message: with the link gone, writing to stderr kills us (SIGPIPE)
  const steps = [
    `{ ${read} && [ "$(stat -L -c %s ${fd})" = ${o.size} ] || { rm -f -- ${t}; printf '%s\\n' ${cut} >&2; exit 1; }; }`,
  ];
  const owned = o.uid !== undefined || o.gid !== undefined;
  if (owned) steps.push(`chown ${o.uid ?? ''}${o.gid !== undefined ? `:${o.gid}` : ''} ${fd}`);
  steps.push(`chmod ${o.mode.toString(8).padStart(4, '0')} ${fd}`);
  if (o.validate !== undefined) {
    const tmpPath = posix.join(dir, tmp);
    const argv = validateArgv(o.validate, tmpPath);
    // run where the task runs, as before (this script works inside dest's directory)
    steps.push(`(cd "$OLDPWD" && ${shellJoin(argv)})`);
  }
  if (o.backupTo) steps.push(`cp -p -- ${n} ${shellQuote(safePath(o.backupTo))}`);
  // the name must still be our file (not a symlink someone put in its place): else the old file stays
  const swapped = shellQuote(`phx-play: ${path}: the temp file was replaced while being written; the old file is kept`);
  steps.push(`{ [ ! -L ${t} ] && [ ${t} -ef ${fd} ] || { printf '%s\\n' ${swapped} >&2; false; }; }`);
  steps.push(`mv -f -- ${t} ${n}`);

  const lines: string[] = [];
  if (o.mkdirParent) lines.push(`mkdir -p ${d} || exit 1`);
  lines.push('(', `cd -P -- ${d} || exit 1`);
  if (owned && posix.isAbsolute(dir)) {
    const refuse = shellQuote(
      `phx-play: ${path}: not giving it an owner or group through a symlink in its directory path ${dir} (someone who can write there could redirect it): use the real path `,
    );
    lines.push(`[ "$(pwd -P)" = ${shellQuote(dir)} ] || { printf '%s%s\\n' ${refuse} "$(pwd -P)" >&2; exit 1; }`);
  }
  lines.push(
    `trap ${shellQuote(`rm -f -- ${t}; exit 1`)} HUP INT TERM PIPE`,
    'umask 077; set -C',
    `exec 3> ${t} || exit 1`,
    `${steps.join(' && ')} || { rc=$?; rm -f -- ${t}; exit $rc; }`,
    ') || exit $?',
  );
  return lines.join('\n');
}

/** The validate command as argv, %s being the temp file; a broken quote is the task's failure. */
function validateArgv(validate: string, tmpPath: string): string[] {
  let words: string[];
  try {
    words = shlexSplit(validate);
  } catch (e) {
    throw new ModuleError(`validate ${JSON.stringify(validate)}: ${(e as Error).message}`);
  }
  return words.map((w) => w.replaceAll('%s', tmpPath));
}

/** Ansible's backup file name: dest.<pid>.<YYYY-MM-DD@HH:MM:SS>~ */
export function backupName(dest: string, now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}@${p(now.getHours())}:${p(now.getMinutes())}:${p(now.getSeconds())}`;
  return `${dest}.${process.pid}.${stamp}~`;
}

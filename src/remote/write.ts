// Writes file content on the host in one command: the bytes travel on stdin
// into a temp file beside the destination, which gets its owner and mode (and
// passes `validate`) before an atomic rename, so nobody ever sees a
// half-written or wrongly permissioned file.
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { shellJoin, shellQuote } from '../quote.js';
import { safePath } from './probe.js';
import { ModuleError } from '../module.js';
import { shlexSplit } from './shlex.js';

export interface WriteOptions {
  /** permission bits for the result */
  mode: number;
  /** chown to these ids (omit to keep the writer's) */
  uid?: number;
  gid?: number;
  /** copy the current destination here first (cp -p) */
  backupTo?: string;
  /** Ansible's validate: a command with %s for the temp file; it must succeed before the rename */
  validate?: string;
  /** create the destination's directory first (copy to `dir/`) */
  mkdirParent?: boolean;
  /** read exactly this many bytes of stdin (several files in one stream) instead of all of it */
  stdinBytes?: number;
}

/** sh script that reads the new content from stdin and puts it at `dest`. */
export function writeFileScript(dest: string, o: WriteOptions): string {
  const d = shellQuote(safePath(dest));
  const dir = posix.dirname(safePath(dest));
  const tmpPath = `${dir}/.${posix.basename(dest).slice(0, 40)}.phx-${randomBytes(6).toString('hex')}`;
  const t = shellQuote(tmpPath);
  // noclobber: the temp file is created exclusively, never through someone's symlink
  const take =
    o.stdinBytes === undefined
      ? `(set -C; cat > ${t})`
      : o.stdinBytes === 0
        ? `(set -C; : > ${t})`
        : // fullblock: dd keeps reading until it has all N bytes, and never reads past them
          `dd bs=${o.stdinBytes} count=1 iflag=fullblock conv=excl status=none of=${t}`;
  const steps = [take, `chmod ${o.mode.toString(8).padStart(4, '0')} ${t}`];
  if (o.uid !== undefined || o.gid !== undefined)
    steps.push(`chown ${o.uid ?? ''}${o.gid !== undefined ? `:${o.gid}` : ''} ${t}`);
  if (o.validate !== undefined) {
    const argv = validateArgv(o.validate, tmpPath);
    steps.push(shellJoin(argv));
  }
  if (o.backupTo) steps.push(`cp -p ${d} ${shellQuote(safePath(o.backupTo))}`);
  steps.push(`mv -f ${t} ${d}`);
  const lines = [`${steps.join(' && ')} || { rc=$?; rm -f ${t}; exit $rc; }`];
  if (o.mkdirParent) lines.unshift(`mkdir -p ${shellQuote(dir)} || exit 1`);
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

// Writes file content on the host in one command: the bytes travel on stdin
// into a temp file beside the destination, which gets its owner and mode
// before an atomic rename, so nobody ever sees a half-written or wrongly
// permissioned file.
import { posix } from 'node:path';
import { shellQuote } from '../quote.js';
import { safePath } from './probe.js';

export interface WriteOptions {
  /** permission bits for the result */
  mode: number;
  /** chown to these ids (omit to keep the writer's) */
  uid?: number;
  gid?: number;
  /** copy the current destination here first (cp -p) */
  backupTo?: string;
}

/** sh script that reads the new content from stdin and puts it at `dest`. */
export function writeFileScript(dest: string, o: WriteOptions): string {
  const d = shellQuote(safePath(dest));
  const dir = posix.dirname(safePath(dest));
  const steps = [`cat > "$t"`, `chmod ${o.mode.toString(8).padStart(4, '0')} "$t"`];
  if (o.uid !== undefined || o.gid !== undefined) steps.push(`chown ${o.uid ?? ''}${o.gid !== undefined ? `:${o.gid}` : ''} "$t"`);
  if (o.backupTo) steps.push(`cp -p ${d} ${shellQuote(safePath(o.backupTo))}`);
  steps.push(`mv -f "$t" ${d}`);
  return [
    `t=$(mktemp ${shellQuote(`${dir}/.phx-tmp.XXXXXX`)}) || exit 1`,
    `${steps.join(' && ')} || { rc=$?; rm -f "$t"; exit $rc; }`,
  ].join('\n');
}

/** Ansible's backup file name: dest.<pid>.<YYYY-MM-DD@HH:MM:SS>~ */
export function backupName(dest: string, now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}@${p(now.getHours())}:${p(now.getMinutes())}:${p(now.getSeconds())}`;
  return `${dest}.${process.pid}.${stamp}~`;
}

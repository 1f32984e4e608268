// copy remote_src: the source is on the host. One command reads it: a file (its mode and bytes),
// or a directory (every directory and file under it, links followed, with modes, and the files'
// bytes in walk order), base64 so that any bytes pass. The result has the shapes of a controller
// source (TreeEntry), so the write is the one copy already makes: atomic, compared by SHA1.
import { ModuleError, type ModuleContext } from '../module.js';
import { shellQuote } from '../quote.js';
import { READ_MAX_BYTES } from './put-content.js';
import { TREE_MAX_ENTRIES, type TreeEntry } from './put-tree.js';

export type RemoteSource =
  { kind: 'file'; content: Buffer; mode: number } | { kind: 'tree'; entries: TreeEntry[] } | { kind: 'missing' };

/**
 * The script: `F mode` then the bytes; `D` then the listing (`type mode size path` NUL-separated)
 * then the files' bytes, both from the same walk (find's order is readdir's, the same twice over
 * an unchanged directory; a size that differs after says it changed while read). Bounded: at most
 * READ_MAX_BYTES + 1 bytes and TREE_MAX_ENTRIES + 1 entries are sent back.
 */
function readScript(src: string): string {
  const limit = READ_MAX_BYTES + 1;
  const s = shellQuote(src);
  return [
    `if [ -d ${s} ]; then cd -- ${s} || exit 3; echo D`,
    `find -L . -mindepth 1 \\( -type d -o -type f \\) -printf '%y %m %s %P\\0' | head -z -n ${TREE_MAX_ENTRIES + 1} | base64 -w0; echo`,
    `find -L . -mindepth 1 -type f -exec cat -- {} + | head -c ${limit} | base64 -w0; echo`,
    `elif [ -f ${s} ]; then [ -r ${s} ] || exit 4; echo "F $(stat -L -c %a -- ${s})"`,
    `head -c ${limit} < ${s} | base64 -w0; echo`,
    `else echo M; fi`,
  ].join('\n');
}

export async function readRemoteSource(ctx: ModuleContext, src: string): Promise<RemoteSource> {
  const r = await ctx.runShell(readScript(src), { okExit: 'any' });
  if (r.rc === 4) throw new ModuleError(`Source ${src} not readable`, { result: r });
  if (r.rc !== 0) throw new ModuleError(`cannot read ${src} on the host`, { result: r });
  const [head, listing = '', data = ''] = r.stdout.split('\n');
  if (head === 'M') return { kind: 'missing' };
  const content = Buffer.from(listing, 'base64');
  if (head.startsWith('F ')) {
    if (content.length > READ_MAX_BYTES) throw new ModuleError(`${src} is larger than ${READ_MAX_BYTES} bytes`);
    return { kind: 'file', content, mode: parseInt(head.slice(2), 8) };
  }
  if (head !== 'D') throw new ModuleError(`cannot read ${src} on the host: unexpected output`);
  return { kind: 'tree', entries: treeEntries(src, content, Buffer.from(data, 'base64')) };
}

function treeEntries(src: string, listing: Buffer, bytes: Buffer): TreeEntry[] {
  if (bytes.length > READ_MAX_BYTES) throw new ModuleError(`${src} holds more than ${READ_MAX_BYTES} bytes`);
  const records = listing.toString('utf8').split('\0').slice(0, -1);
  if (records.length > TREE_MAX_ENTRIES) throw new ModuleError(`${src}: more than ${TREE_MAX_ENTRIES} entries`);
  const entries: TreeEntry[] = [];
  let at = 0;
  for (const rec of records) {
    const m = /^([df]) ([0-7]+) (\d+) (.+)$/s.exec(rec);
    if (!m) throw new ModuleError(`cannot read ${src} on the host: unexpected listing`);
    const [, type, mode, size, rel] = m;
    if (type === 'd') entries.push({ rel, dir: true, mode: parseInt(mode, 8) });
    else {
      const n = Number(size);
      entries.push({ rel, dir: false, mode: parseInt(mode, 8), content: bytes.subarray(at, at + n) });
      at += n;
    }
  }
  if (at !== bytes.length) throw new ModuleError(`${src} changed while it was read; run the task again`);
  return entries.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

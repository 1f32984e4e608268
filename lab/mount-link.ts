// `node mount-link.js <target> <source>`: bind-mounts the symlink <source> over
// the symlink <target> (both not followed). mount(8) follows symlinks, so both
// ends are opened O_PATH|O_NOFOLLOW and handed to it as /proc/self/fd/N.
// Used by a cluster host's setup script: the shared /etc/pve has one `local`
// link, each node sees its own (nodes/<its name>), as on pmxcfs.
import { openSync, constants } from 'node:fs';
import { spawnSync } from 'node:child_process';

const O_PATH = 0o10000000; // Linux; not in fs.constants

const [target, source] = process.argv.slice(2);
if (!target || !source) {
  process.stderr.write('usage: mount-link <target-symlink> <source-symlink>\n');
  process.exit(2);
}
function openLink(path: string): number {
  try {
    return openSync(path, O_PATH | constants.O_NOFOLLOW);
  } catch (e) {
    process.stderr.write(`mount-link: cannot open ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}\n`);
    process.exit(1);
  }
}

const sourceFd = openLink(source);
const targetFd = openLink(target);
// fd 3 = source, fd 4 = target in mount(8); --no-canonicalize keeps libmount from resolving the links
const r = spawnSync('mount', ['--no-canonicalize', '--bind', '/proc/self/fd/3', '/proc/self/fd/4'], {
  stdio: ['ignore', 'inherit', 'inherit', sourceFd, targetFd],
});
process.exit(r.status ?? 1);

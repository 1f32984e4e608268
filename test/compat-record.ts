// Records Ansible's end state and recap of every corpus item (or of the items
// named on the command line) as test/compat/expected/<name>.json:
//   npx tsc -p . && node dist/test/compat-record.js [name ...]
// Needs root and ansible-playbook (Debian: apt-get install ansible).
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ansibleInstalled, fixturePath, loadManifest, pool, runItem, sandboxUsable } from './helpers/compat.js';

const names = process.argv.slice(2);
const unusable = sandboxUsable();
if (unusable) throw new Error(unusable);
if (!ansibleInstalled()) throw new Error('ansible-playbook is not installed');
const items = loadManifest().filter((i) => names.length === 0 || names.includes(i.name));
await pool(items, 2, async (item) => {
  const r = await runItem('ansible-playbook', item);
  const path = fixturePath(item);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify({ rc: r.rc, recap: r.recap, state: r.state }, null, 2) + '\n');
  console.log(`${item.name}: rc=${r.rc} ${JSON.stringify(r.recap)} ${r.state.length} paths`);
  if (r.rc !== 0)
    console.log(
      r.output
        .split('\n')
        .filter((l) => /fatal|ERROR|failed:/.test(l))
        .join('\n'),
    );
});

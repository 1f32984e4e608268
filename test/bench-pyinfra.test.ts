// What the bench reads from pyinfra (bench/pyinfra.ts): which pyinfra it
// measures, its inventory for the bench hosts, and the changes from its output.
// The output shapes are pyinfra 3.0's: pyinfra/api/operations.py logs
// "[host] Success" / "No changes" per executed operation, pyinfra_cli/prints.py
// print_meta() prints the --dry proposal table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { findPyinfra, parsePyinfraOutput, pyinfraTotals, writePyinfraInventory } from '../bench/pyinfra.js';
import type { BenchHosts } from '../bench/hosts.js';

const executed = `--> Connecting to hosts...
    [h01] Connected
    [h02] Connected
--> Skipping change detection
--> Beginning operation run...
--> Starting operation: base directory 
    [h01] Success
    [h02] No changes

--> Starting operation: enabled marker 
    [h02] Skipped
    [h01] Success

--> Starting operation: read the motd and report 
    h01: managed by the bench
    [h01] No changes
    [h02] No changes

--> Results:
    Operation                                     Hosts   Success   Error   No Change   
    base directory                                2       2         -       -           
`;

const dry = `--> Detected changes:
    Operation                                     Change          Conditional Change   
    base directory                                2 (h01, h02)    -                    
    enabled marker, only when the config exists   -               1 (h02)              
    link to the motd                              -               -                    

--> Disconnecting from hosts...
`;

test('an executed run: operations that ran commands per host, every host that ran one listed', () => {
  const r = parsePyinfraOutput(executed);
  assert.deepEqual([...r.changed.entries()].sort(), [
    ['h01', 2],
    ['h02', 0],
  ]);
  assert.deepEqual(pyinfraTotals(executed, false, ['h01', 'h02']), {
    changed: 2,
    failed: 0,
    unreachable: 0,
    complete: true,
  });
  assert.equal(pyinfraTotals(executed, false, ['h01', 'h02', 'h03']).complete, false);
});

test('a --dry run: the proposed changes and conditional changes of every operation', () => {
  assert.equal(parsePyinfraOutput(dry).proposed, 3);
  assert.deepEqual(pyinfraTotals(dry, true, ['h01', 'h02']), {
    changed: 3,
    failed: 0,
    unreachable: 0,
    complete: true,
  });
  assert.equal(pyinfraTotals('--> Connecting to hosts...\n', true, ['h01']).complete, false);
});

const note = (found: ReturnType<typeof findPyinfra>) => (typeof found === 'string' ? found : 'found');

test('pyinfra is found by PYINFRA, then PATH, and only a 3.x is measured', () => {
  const dir = mkdtempSync(join(tmpdir(), 'phx-pyinfra-'));
  const fake = (name: string, version: string) => {
    const f = join(dir, name);
    writeFileSync(f, `#!/bin/sh\necho '${version}'\n`);
    chmodSync(f, 0o755);
    return f;
  };
  const v3 = fake('pyinfra', 'pyinfra: v3.0b0');
  const v2 = fake('pyinfra2', 'pyinfra: v2.9.2');
  assert.deepEqual(findPyinfra({ PATH: dir }), { bin: v3, version: 'pyinfra: v3.0b0' });
  assert.deepEqual(findPyinfra({ PATH: '/nonexistent', PYINFRA: v3 }), { bin: v3, version: 'pyinfra: v3.0b0' });
  assert.match(note(findPyinfra({ PATH: dir, PYINFRA: v2 })), /not measured: .*v2\.9\.2.*3\.x/);
  assert.match(note(findPyinfra({ PATH: '/nonexistent' })), /not measured: no pyinfra on PATH and PYINFRA is not set/);
});

test("the inventory is Python data: a path's quotes stay inside its string", () => {
  const dir = mkdtempSync(join(tmpdir(), 'phx-pyinfra-'));
  const hosts = {
    names: ['h01', 'h02'],
    handles: [{ port: 2201 }, { port: 2202 }],
    privateKeyFile: join(dir, 'key"), ("evil'),
    knownHostsFile: join(dir, 'known_hosts'),
  } as unknown as BenchHosts;
  const file = join(dir, 'inventory.py');
  writePyinfraInventory(hosts, file);
  if (!existsSync('/usr/bin/python3')) return assert.match(readFileSync(file, 'utf8'), /^bench = \[/);
  const r = spawnSync(
    '/usr/bin/python3',
    ['-c', 'import json,sys; ns={}; exec(open(sys.argv[1]).read(), ns); print(json.dumps(ns["bench"]))', file],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const bench = JSON.parse(r.stdout) as Array<[string, Record<string, unknown>]>;
  assert.deepEqual(
    bench.map(([n]) => n),
    ['h01', 'h02'],
  );
  assert.deepEqual(bench[1][1], {
    ssh_hostname: '127.0.0.1',
    ssh_port: 2202,
    ssh_user: 'root',
    ssh_key: join(dir, 'key"), ("evil'),
    ssh_known_hosts_file: join(dir, 'known_hosts'),
    ssh_strict_host_key_checking: 'yes',
    ssh_allow_agent: false,
    ssh_look_for_keys: false,
  });
});

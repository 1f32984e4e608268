// Ansible expands `~`, `~user` and `$VAR` in every type='path' argument where
// the module runs (lib/ansible/module_utils/common/validation.py check_type_path:
// os.path.expanduser(os.path.expandvars(value))). The corpus items devsec-rhosts,
// devsec-netrc (`dest: ~{{ item }}/.rhosts`) and vkill-environment-variables
// (`path: ~/.profile`) rely on it.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import file from '../modules/file.js';
import lineinfile from '../modules/lineinfile.js';
import stat from '../modules/stat.js';
import { run } from './modules-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'phx-path-expand-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const me = userInfo();

describe('path arguments: ~ and $VAR expanded on the host', () => {
  it('~user names that home, in one extra round trip', async () => {
    const r = await run(stat, { path: `~${me.username}` });
    assert.equal((r.result.stat as { exists: boolean; isdir: boolean }).isdir, true, JSON.stringify(r.result));
    const plain = await run(stat, { path: me.homedir });
    assert.equal(r.roundTrips, plain.roundTrips + 1);
  });

  it('$VAR from the host environment; an unset one stays as written', async () => {
    process.env.PHX_EXPAND_DIR = dir;
    try {
      const r = await run(lineinfile, { path: '$PHX_EXPAND_DIR/env', line: 'A=1', create: true });
      assert.ok(!r.result.failed, JSON.stringify(r.result));
      assert.equal(readFileSync(join(dir, 'env'), 'utf8'), 'A=1\n');
      const u = await run(stat, { path: `${dir}/$PHX_SURELY_UNSET` });
      assert.equal((u.result.stat as { exists: boolean }).exists, false);
    } finally {
      delete process.env.PHX_EXPAND_DIR;
    }
  });

  it('nothing else of the value reaches the shell', async () => {
    // `$(…)` and backquotes are not variable references: the name is taken as written
    const name = "$(id)`id`*'x";
    process.env.PHX_EXPAND_DIR = dir;
    try {
      const r = await run(file, { path: `$PHX_EXPAND_DIR/${name}`, state: 'touch' });
      assert.ok(!r.result.failed, JSON.stringify(r.result));
      assert.ok(existsSync(join(dir, name)));
    } finally {
      delete process.env.PHX_EXPAND_DIR;
    }
  });
});

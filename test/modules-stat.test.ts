import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import statModule from '../modules/stat.js';
import { argErrors, removeDir, run, tempDir } from './modules-harness.js';

let dir: string;
before(() => {
  dir = tempDir();
});
after(() => removeDir(dir));

type Stat = Record<string, unknown>;

describe('stat', () => {
  it('a regular file, in Ansible shape, one round trip, same in check mode', async () => {
    const p = join(dir, "na'me $(x)\nz");
    writeFileSync(p, 'hello');
    chmodSync(p, 0o4750);
    const { result, roundTrips } = await run(statModule, { path: p });
    const st = result.stat as Stat;
    const real = statSync(p);
    assert.equal(result.changed, false);
    assert.equal(roundTrips, 1);
    assert.equal(st.exists, true);
    assert.equal(st.path, p);
    assert.equal(st.mode, '4750');
    assert.equal(st.isreg, true);
    assert.equal(st.isdir, false);
    assert.equal(st.islnk, false);
    assert.equal(st.size, 5);
    assert.equal(st.uid, real.uid);
    assert.equal(st.pw_name, 'root');
    assert.equal(st.gr_name, 'root');
    assert.equal(st.inode, real.ino);
    assert.equal(st.isuid, true);
    assert.equal(st.xoth, false);
    assert.equal(st.rgrp, true);
    assert.equal(st.readable, true);
    assert.equal(Math.floor(st.mtime as number), Math.floor(real.mtimeMs / 1000));
    assert.equal(st.checksum, createHash('sha1').update('hello').digest('hex'));
    const check = await run(statModule, { path: p }, { check: true });
    // the checksum read itself may move atime
    const noAtime = (r: typeof result) => ({ ...r, stat: { ...(r.stat as Stat), atime: 0 } });
    assert.deepEqual(noAtime(check.result), noAtime(result));
  });

  it('other algorithms, no checksum, directory, missing', async () => {
    const p = join(dir, 'f');
    writeFileSync(p, 'abc');
    const sha256 = (await run(statModule, { path: p, checksum_algorithm: 'sha256' })).result.stat as Stat;
    assert.equal(sha256.checksum, createHash('sha256').update('abc').digest('hex'));
    const md5 = (await run(statModule, { path: p, checksum_algo: 'md5' })).result.stat as Stat;
    assert.equal(md5.checksum, createHash('md5').update('abc').digest('hex'));
    assert.equal(((await run(statModule, { path: p, get_checksum: false })).result.stat as Stat).checksum, undefined);
    mkdirSync(join(dir, 'd'));
    const d = (await run(statModule, { name: join(dir, 'd') })).result.stat as Stat;
    assert.equal(d.isdir, true);
    assert.equal(d.checksum, undefined);
    assert.deepEqual((await run(statModule, { path: join(dir, 'none') })).result.stat, { exists: false });
  });

  it('symlinks: lnk_target/lnk_source without follow, the target with follow', async () => {
    const target = join(dir, 'f');
    const link = join(dir, 'lnk');
    symlinkSync('f', link);
    const l = (await run(statModule, { path: link })).result.stat as Stat;
    assert.equal(l.islnk, true);
    assert.equal(l.lnk_target, 'f');
    assert.equal(l.lnk_source, target);
    assert.equal(l.checksum, undefined);
    const t = (await run(statModule, { path: link, follow: true })).result.stat as Stat;
    assert.equal(t.islnk, false);
    assert.equal(t.isreg, true);
    assert.equal(t.size, 3);
  });

  it('rejects bad arguments', () => {
    assert.match(argErrors(statModule, {}).join(), /path is required/);
    assert.match(argErrors(statModule, { path: '/x', checksum_algorithm: 'crc32' }).join(), /checksum_algorithm/);
    assert.match(argErrors(statModule, { path: '/x', folow: true }).join(), /folow/);
  });
});

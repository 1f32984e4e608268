// Host patterns: every operator, Ansible's evaluation order, subscripts,
// @file, the implicit localhost.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PhxError } from '../src/errors.js';
import { loadInventory, selectHosts, splitPattern } from '../src/inventory/index.js';
import { removeTrees, tree } from './fixtures/inventory/tree.js';

after(removeTrees);

const dir = tree({
  'inv.yml': `
all:
  hosts:
    lone:
  children:
    web:
      hosts: { web-1: , web-2: , web-10: }
    db:
      hosts: { db1: , db2: }
    pve:
      hosts: { pve01: , pve02: , pve03: }
      children:
        pve_zfs:
          hosts: { pve02: }
    prod:
      children: { web: , db: }
    staging:
      hosts: { web-2: , db2: }
`,
  'retry/site.retry': 'web-1\ndb2\n\n',
});
const inv = loadInventory([join(dir, 'inv.yml')]);
const sel = (p: string) => selectHosts(inv, p, { baseDir: dir });
const ALL = ['lone', 'web-1', 'web-2', 'web-10', 'db1', 'db2', 'pve01', 'pve02', 'pve03'];

describe('host patterns', () => {
  it('selects a host by name and a group by name (children included)', () => {
    assert.deepEqual(sel('db2'), ['db2']);
    assert.deepEqual(sel('web'), ['web-1', 'web-2', 'web-10']);
    assert.deepEqual(sel('pve'), ['pve01', 'pve02', 'pve03']);
    assert.deepEqual(sel('prod'), ['web-1', 'web-2', 'web-10', 'db1', 'db2']);
  });

  it('selects every host with all and *', () => {
    assert.deepEqual(sel('all'), ALL);
    assert.deepEqual(sel('*'), ALL);
  });

  it('matches globs against group and host names', () => {
    assert.deepEqual(sel('pve*'), ['pve01', 'pve02', 'pve03']);
    assert.deepEqual(sel('web-?'), ['web-1', 'web-2']);
    assert.deepEqual(sel('db[!1]'), ['db2']);
    assert.deepEqual(sel('*-1*'), ['web-1', 'web-10']);
  });

  it('unions with : and , in the order written, each host once', () => {
    assert.deepEqual(sel('db:web'), ['db1', 'db2', 'web-1', 'web-2', 'web-10']);
    assert.deepEqual(sel('staging,web'), ['web-2', 'db2', 'web-1', 'web-10']);
    assert.deepEqual(sel(' lone , db1 '), ['lone', 'db1']);
    assert.deepEqual(sel('web:db,pve01'), ['web-1', 'web-2', 'web-10', 'db1', 'db2', 'pve01']);
  });

  it('intersects with :&', () => {
    assert.deepEqual(sel('prod:&staging'), ['web-2', 'db2']);
    assert.deepEqual(sel('pve:&pve_zfs'), ['pve02']);
    assert.deepEqual(sel('web:&db'), []);
  });

  it('excludes with :!', () => {
    assert.deepEqual(sel('prod:!staging'), ['web-1', 'web-10', 'db1']);
    assert.deepEqual(sel('all:!pve:!lone'), ['web-1', 'web-2', 'web-10', 'db1', 'db2']);
  });

  it('applies unions first, then intersections, then exclusions, whatever the order written', () => {
    assert.deepEqual(sel('!staging:prod'), ['web-1', 'web-10', 'db1']);
    assert.deepEqual(sel('&staging,web,db'), ['web-2', 'db2']);
    assert.deepEqual(sel('web:!web-2:&staging:db'), ['db2']);
  });

  it('starts from all when there are only & and ! terms', () => {
    assert.deepEqual(sel('!prod'), ['lone', 'pve01', 'pve02', 'pve03']);
    assert.deepEqual(sel('&staging'), ['web-2', 'db2']);
  });

  it('matches ~regex from the start of the name', () => {
    assert.deepEqual(sel('~web-\\d$'), ['web-1', 'web-2']);
    assert.deepEqual(sel('~(db|pve)0?1'), ['db1', 'pve01']);
    assert.deepEqual(sel('~eb'), []);
  });

  it('throws a PhxError for a malformed regex', () => {
    assert.throws(
      () => sel('~(web'),
      (e: unknown) => e instanceof PhxError && /invalid regular expression in host pattern '~\(web'/.test(e.message),
    );
  });

  it('reads @file patterns, one per line (a retry file)', () => {
    assert.deepEqual(sel('@retry/site.retry'), ['web-1', 'db2']);
    assert.deepEqual(sel('lone:@retry/site.retry'), ['lone', 'web-1', 'db2']);
    assert.deepEqual(selectHosts(inv, `@${join(dir, 'retry/site.retry')}`), ['web-1', 'db2']);
    assert.throws(
      () => sel('@missing.retry'),
      (e: unknown) => e instanceof PhxError && /cannot read host pattern file @missing.retry: ENOENT/.test(e.message),
    );
  });

  it('takes subscripts: [i], [-i], [a:b] inclusive, [a:]', () => {
    assert.deepEqual(sel('web[0]'), ['web-1']);
    assert.deepEqual(sel('web[-1]'), ['web-10']);
    assert.deepEqual(sel('all[1:3]'), ['web-1', 'web-2', 'web-10']);
    assert.deepEqual(sel('all[7:]'), ['pve02', 'pve03']);
    assert.deepEqual(sel('web[0]:db[1]'), ['web-1', 'db2']);
    assert.deepEqual(sel('prod:!web[0]'), ['web-2', 'web-10', 'db1', 'db2']);
    assert.throws(
      () => sel('web[3]'),
      (e: unknown) => e instanceof PhxError && /no hosts matched the subscripted pattern 'web\[3\]'/.test(e.message),
    );
  });

  it('returns [] for a pattern that matches nothing', () => {
    assert.deepEqual(sel('nosuch'), []);
    assert.deepEqual(sel('nosuch*'), []);
    assert.deepEqual(sel(''), []);
    assert.deepEqual(selectHosts(loadInventory([]), 'all'), []);
  });

  it('names the implicit localhost only when asked for it explicitly', () => {
    assert.deepEqual(sel('localhost'), ['localhost']);
    assert.deepEqual(sel('127.0.0.1'), ['127.0.0.1']);
    assert.deepEqual(sel('::1'), ['::1']);
    assert.deepEqual(sel('db1:localhost'), ['db1', 'localhost']);
    assert.ok(!sel('all').includes('localhost'));
    assert.deepEqual(sel('local*'), []);
    assert.deepEqual(selectHosts(loadInventory([]), 'localhost'), ['localhost']);
  });

  it('splits patterns like Ansible, keeping IPv6 and subscripts whole', () => {
    assert.deepEqual(splitPattern('a:b:&c:!d'), ['a', 'b', '&c', '!d']);
    assert.deepEqual(splitPattern('a, b ,,c'), ['a', 'b', 'c']);
    assert.deepEqual(splitPattern('web[1:2]:db'), ['web[1:2]', 'db']);
    assert.deepEqual(splitPattern('fe80::1'), ['fe80::1']);
  });
});

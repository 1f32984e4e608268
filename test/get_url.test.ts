// get_url for real on a local connection: http from a server on 127.0.0.1 and
// file:// URLs, fetched by curl on the host. Follows Ansible's
// lib/ansible/modules/get_url.py main(): an existing dest is kept unless force
// or a checksum mismatch ("file already exists"), the download must match
// `checksum` ("The checksum for … did not match …; it was …."), msg "OK (N bytes)",
// checksum_src/checksum_dest (sha1), md5sum, status_code.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import getUrl, { urlFilename } from '../modules/get_url.js';
import { argErrors, removeDir, run, snapshot, tempDir } from './modules-harness.js';

let dir = '';
let server: Server;
let base = '';
const BODY = 'deb http://deb.debian.org/debian bookworm main\n';
const sha = (algo: string, s: string) => createHash(algo).update(s).digest('hex');
const seenHeaders: Record<string, unknown>[] = [];

before(async () => {
  dir = tempDir();
  server = createServer((req, res) => {
    seenHeaders.push(req.headers);
    if (req.url === '/missing') return void res.writeHead(404).end('no');
    if (req.url === '/moved') return void res.writeHead(302, { location: '/file.list' }).end();
    res.writeHead(200).end(BODY);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  removeDir(dir);
  await new Promise((ok) => server.close(ok));
});

describe('get_url', () => {
  it('downloads on the host; check mode changes nothing; second run "file already exists"', async () => {
    const dest = join(dir, 'a.list');
    const args = { url: `${base}/file.list`, dest, mode: '0640', headers: { 'X-Phx': 'yes' } };
    const snap = snapshot(dir);
    const check = await run(getUrl, args, { check: true });
    assert.equal(check.result.changed, true);
    assert.deepEqual(snapshot(dir), snap, 'check mode changed nothing');
    const real = await run(getUrl, args);
    assert.equal(real.result.failed, undefined, String(real.result.msg));
    assert.equal(real.result.changed, true);
    assert.equal(real.result.msg, `OK (${BODY.length} bytes)`);
    assert.equal(real.result.status_code, 200);
    assert.equal(real.result.checksum_src, sha('sha1', BODY));
    assert.equal(real.result.md5sum, sha('md5', BODY));
    assert.equal(readFileSync(dest, 'utf8'), BODY);
    assert.equal(statSync(dest).mode & 0o777, 0o640);
    assert.equal(seenHeaders.at(-1)?.['x-phx'], 'yes');
    assert.equal(real.roundTrips, 2, 'facts, then the download on the host');
    const again = await run(getUrl, args);
    assert.equal(again.result.changed, false);
    assert.equal(again.result.msg, 'file already exists');
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.includes('phx-get_url')),
      [],
      'no temp file left',
    );
  });

  it('checksum: a matching dest is kept, a wrong download fails and leaves dest alone', async () => {
    const dest = join(dir, 'b.list');
    writeFileSync(dest, 'old\n');
    const keep = await run(getUrl, { url: `${base}/file.list`, dest, checksum: `sha256:${sha('sha256', 'old\n')}` });
    assert.equal(keep.result.changed, false);
    const good = await run(getUrl, { url: `${base}/file.list`, dest, checksum: `sha256:${sha('sha256', BODY)}` });
    assert.equal(good.result.changed, true, 'a mismatching dest is downloaded again');
    assert.equal(readFileSync(dest, 'utf8'), BODY);
    const wrong = 'sha256:' + '0'.repeat(64);
    const bad = await run(getUrl, { url: `${base}/file.list`, dest, checksum: wrong, force: true });
    assert.equal(bad.result.failed, true);
    assert.equal(
      bad.result.msg,
      `The checksum for ${dest} did not match ${'0'.repeat(64)}; it was ${sha('sha256', BODY)}.`,
    );
    assert.equal(readFileSync(dest, 'utf8'), BODY);
  });

  it('force with the same bytes: ok; redirects followed; 404 fails; file:// URLs; dest a directory', async () => {
    const dest = join(dir, 'c.list');
    await run(getUrl, { url: `${base}/moved`, dest });
    assert.equal(readFileSync(dest, 'utf8'), BODY);
    const same = await run(getUrl, { url: `${base}/file.list`, dest, force: true });
    assert.equal(same.result.changed, false);
    const missing = await run(getUrl, { url: `${base}/missing`, dest: join(dir, 'm') });
    assert.equal(missing.result.failed, true);
    assert.match(String(missing.result.msg), /Request failed: HTTP Error 404/);
    assert.equal(existsSync(join(dir, 'm')), false);
    const fromFile = await run(getUrl, { url: `file://${dest}`, dest: join(dir, 'copy.list') });
    assert.equal(fromFile.result.changed, true);
    assert.equal(readFileSync(join(dir, 'copy.list'), 'utf8'), BODY);
    const inDir = await run(getUrl, { url: `${base}/named.list?x=1`, dest: dir });
    assert.equal(inDir.result.dest, join(dir, 'named.list'));
    assert.equal(urlFilename('https://h/'), 'index.html');
  });

  it('hostile values: URLs that would be options, header injection, bad checksums are refused', () => {
    assert.ok(argErrors(getUrl, { url: '-o/etc/passwd', dest: '/x' }).some((e) => e.startsWith('url:')));
    assert.ok(argErrors(getUrl, { url: 'ftp://h/x', dest: '/x' }).length > 0);
    assert.ok(argErrors(getUrl, { url: 'http://h/x', dest: '/x', headers: { A: 'b\r\nEvil: 1' } }).length > 0);
    assert.ok(argErrors(getUrl, { url: 'http://h/x', dest: '/x', headers: { 'A: b': 'c' } }).length > 0);
    assert.ok(argErrors(getUrl, { url: 'http://h/x', dest: '/x', checksum: 'sha256:abc' }).length > 0);
    assert.ok(argErrors(getUrl, { url: 'http://h/x', dest: 'rel' }).length > 0);
  });
});

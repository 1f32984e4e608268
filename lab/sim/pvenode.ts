// `pvenode cert info|set` — reads the real PEM files under /etc/pve like PVE.
import { readFileSync, copyFileSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { X509Certificate } from 'node:crypto';
import { SimError, out, hostPath, nodeName, withLock } from './env.js';
import { parsePveArgs, needArgs, unknownOption } from './pve-args.js';
import { systemctl } from './systemd.js';

function oneline(name: string): string {
  return name
    .split('\n')
    .filter(Boolean)
    .map((p) => `/${p}`)
    .join('');
}

/** One certificate as `pvenode cert info` lists it. */
type CertInfo = Record<string, string | number | string[]>;

function certInfo(path: string): CertInfo | null {
  let pem: string;
  try {
    pem = readFileSync(hostPath(path), 'utf8');
  } catch {
    return null;
  }
  const block = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/.exec(pem)?.[0];
  if (!block) return null;
  const c = new X509Certificate(block);
  const key = c.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  return {
    filename: path.slice(path.lastIndexOf('/') + 1),
    fingerprint: c.fingerprint256,
    issuer: oneline(c.issuer),
    notafter: Math.floor(Date.parse(c.validTo) / 1000),
    notbefore: Math.floor(Date.parse(c.validFrom) / 1000),
    pem: block.endsWith('\n') ? block : `${block}\n`,
    'public-key-bits': details.modulusLength ?? 256,
    'public-key-type':
      key.asymmetricKeyType === 'rsa'
        ? 'rsaEncryption'
        : key.asymmetricKeyType === 'ec'
          ? 'id-ecPublicKey'
          : String(key.asymmetricKeyType),
    san: (c.subjectAltName ?? '')
      .split(', ')
      .filter(Boolean)
      .map((s) => s.replace(/^(DNS|IP Address):/, '')),
    subject: oneline(c.subject),
  };
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, o[k]]),
  );
}

export function pvenode(args: string[]): number {
  if (args[0] === 'acme' && args[1] === 'cert' && args[2] === 'renew') return renew(args.slice(3));
  if (args[0] !== 'cert') throw new SimError(`unknown command 'pvenode ${args[0] ?? ''}'`, 255);
  const p = parsePveArgs(args.slice(2), ['force', 'restart']);
  const node = `/etc/pve/nodes/${nodeName()}`;
  if (args[1] === 'info') {
    let format = 'text';
    for (const [k, v] of p.options) {
      if (k === 'output-format') format = v;
      else unknownOption(k);
    }
    const infos = ['/etc/pve/pve-root-ca.pem', `${node}/pve-ssl.pem`, `${node}/pveproxy-ssl.pem`]
      .map(certInfo)
      .filter((x): x is CertInfo => x !== null)
      .map(sortKeys);
    if (format === 'json') out(JSON.stringify(infos) + '\n');
    else if (format === 'json-pretty') out(JSON.stringify(infos, null, 3) + '\n');
    else
      for (const i of infos)
        out(
          Object.entries(i)
            .filter(([k]) => k !== 'pem')
            .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}\n`)
            .join('') + '\n',
        );
    return 0;
  }
  if (args[1] === 'set') {
    needArgs(p, 2);
    const [cert, key] = p.positional;
    const opts = Object.fromEntries(p.options);
    withLock(() => {
      if (!certInfo(cert)) throw new SimError(`unable to read certificate from '${cert}'`, 255);
      copyFileSync(hostPath(cert), hostPath(`${node}/pveproxy-ssl.pem`));
      copyFileSync(hostPath(key), hostPath(`${node}/pveproxy-ssl.key`));
    });
    if (opts.restart === '1') systemctl(['restart', 'pveproxy']);
    return 0;
  }
  throw new SimError(`unknown command 'pvenode cert ${args[1] ?? ''}'`, 255);
}

/** `pvenode acme cert renew [--force 1]`: a new pveproxy-ssl certificate (signed by the node's CA), then pveproxy restarts. */
function renew(args: string[]): number {
  const p = parsePveArgs(args, ['force']);
  const force = p.options.some(([k, v]) => k === 'force' && v === '1');
  const node = `/etc/pve/nodes/${nodeName()}`;
  const current = certInfo(`${node}/pveproxy-ssl.pem`);
  if (current && !force && (current.notafter as number) > Date.now() / 1000 + 30 * 86400)
    throw new SimError(
      "400 Parameter verification failed.\nforce: Certificate does not expire within the next 30 days, and 'force' is not set.",
      255,
    );
  out(
    'Loading ACME account details\nPlacing ACME order\nOrder URL: https://acme-v02.api.letsencrypt.org/acme/order/phx-lab\n\nGetting authorization details\nThe validation was successful!\n\nAll domains validated!\n\nCreating CSR\nChecking order status\nValid!\n\nDownloading certificate\nSetting pveproxy certificate and key\nRestarting pveproxy\n',
  );
  withLock(() => issueProxyCert(node));
  systemctl(['reload-or-restart', 'pveproxy']);
  if (current) out('Revoking old certificate\n');
  return 0;
}

function issueProxyCert(node: string): void {
  const tmp = mkdtempSync(join(tmpdir(), 'phx-lab-acme-'));
  try {
    const run = (args: string[]) => {
      const r = spawnSync('openssl', args, { encoding: 'utf8' });
      if (r.status !== 0) throw new SimError(`openssl failed: ${r.stderr}`, 255);
    };
    const name = nodeName();
    run([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(tmp, 'key'),
      '-out',
      join(tmp, 'csr'),
      '-subj',
      `/CN=${name}.lab`,
    ]);
    writeFileSync(join(tmp, 'ext'), `subjectAltName=DNS:${name}.lab\n`);
    run([
      'x509',
      '-req',
      '-in',
      join(tmp, 'csr'),
      '-CA',
      hostPath('/etc/pve/pve-root-ca.pem'),
      '-CAkey',
      hostPath('/etc/pve/priv/pve-root-ca.key'),
      '-CAcreateserial',
      '-CAserial',
      join(tmp, 'serial'),
      '-out',
      join(tmp, 'pem'),
      '-days',
      '90',
      '-extfile',
      join(tmp, 'ext'),
    ]);
    copyFileSync(join(tmp, 'pem'), hostPath(`${node}/pveproxy-ssl.pem`));
    copyFileSync(join(tmp, 'key'), hostPath(`${node}/pveproxy-ssl.key`));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

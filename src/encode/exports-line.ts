// One line of /etc/exports (exports(5)): `<path> <client>(<options>) …`. A value
// holding a blank starts another client (`10.0.0.0/24 *(rw,no_root_squash)` in a
// client list exports to everyone), a line break starts another export, and a
// `(`, `)` or `,` in an option adds options. Refused, not escaped: a path with a
// blank is rare enough that a clear error beats exportfs's octal escapes.
import { lineProblem } from './line.js';
import { ValueRefused } from './property-string.js';

/** Hostnames, wildcards, IPv4/IPv6 addresses and networks, @netgroups, gss/krb5 names. */
const CLIENT = /^[A-Za-z0-9.*?:/@_\-[\]]+$/;
/** `rw`, `sync`, `fsid=0`, `anonuid=65534`, `sec=krb5:krb5i`. */
const OPTION = /^[a-z_]+(=[A-Za-z0-9._:/@-]+)?$/;

function refuse(what: string, value: string, why: string): never {
  throw new ValueRefused(`/etc/exports ${what} ${JSON.stringify(value)} ${why}`);
}

/** The clients as given: a list, or a string of blank-separated clients. */
function clientList(clients: string | readonly string[]): string[] {
  const list = typeof clients === 'string' ? clients.trim().split(/[ \t]+/) : [...clients];
  if (list.length === 0 || list.some((c) => c === '')) refuse('clients', String(clients), 'name no client');
  return list;
}

/** `/path client(options) client(options)`, every part checked; options given as one comma list. */
export function printExportsLine(path: string, clients: string | readonly string[], options: string): string {
  const pathWhy = lineProblem(path) ?? (path.startsWith('/') ? undefined : 'must be an absolute path');
  if (pathWhy) refuse('path', path, pathWhy);
  if (/\s/.test(path)) refuse('path', path, 'must not contain blanks (they separate the clients)');
  const opts = options.split(',');
  for (const o of opts) if (!OPTION.test(o)) refuse('option', o, 'is not an export option (name or name=value)');
  const entries = clientList(clients).map((c) => {
    if (!CLIENT.test(c)) refuse('client', c, 'is not a host, network, wildcard or @netgroup');
    return `${c}(${opts.join(',')})`;
  });
  return `${path} ${entries.join(' ')}`;
}

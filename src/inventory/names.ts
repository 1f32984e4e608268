// Names a playbook may give a host or group at run time (add_host, group_by): a name only names,
// it cannot become a host pattern (`a:b`, `!x`, `web*`, `~re`), an option or a path.
import { isBareIPv6 } from './ranges.js';

const HOST_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}$/;
const GROUP_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}$/;

/** A host name (or IPv4 address), or a bare IPv6 address. */
export function isValidHostName(name: string): boolean {
  return HOST_NAME.test(name) || (isBareIPv6(name) && name.length <= 45);
}

/** Letters, digits, `_`, `.` and `-` (Ansible warns on the last two and keeps them), not first `.`/`-`. */
export function isValidGroupName(name: string): boolean {
  return GROUP_NAME.test(name);
}

/**
 * add_host's `name`: `host`, `host:port`, `[v6]:port` or a bare IPv6 address (Ansible's
 * parse_address without ranges). Undefined when it is none of those.
 */
export function parseHostAndPort(text: string): { host: string; port?: number } | undefined {
  const bracketed = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(text);
  const plainPort = /^([^:[\]]+):(\d{1,5})$/.exec(text);
  const [host, port] = bracketed
    ? [bracketed[1], bracketed[2]]
    : plainPort
      ? [plainPort[1], plainPort[2]]
      : [text, undefined];
  if (!isValidHostName(host)) return undefined;
  if (port === undefined) return { host };
  const n = Number(port);
  return n >= 1 && n <= 65535 ? { host, port: n } : undefined;
}

// pve-firewall rules (proxmox/pve-firewall src/PVE/Firewall.pm): reading a rule line as parse_fw_rule does,
// and checking a rule as verify_rule does, so that a rule this module writes is one pve-firewall uses.
// pve-firewall does not refuse a bad rule: verify_rule marks it with errors, the compiler skips it
// (`next if !$rule->{enable} || $rule->{errors}`) and only syslog says why. A playbook would succeed
// with a rule that does nothing; these checks make it fail instead, naming the parameter.
import { isIPv6 } from 'node:net';
import { trimComment, type FwRule } from '../encode/fw-rule.js';

/** Where a rule lives: a guest's file (rule_env vm/ct) or cluster.fw's [RULES] (rule_env cluster). */
export type FwFileKind = 'guest' | 'cluster';

/** The log levels of `-log` and the log_level_* options (parse_fw_rule, pve-fw-loglevel). */
export const LOG_LEVELS = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug', 'nolog'] as const;

/** $pve_fw_macros and $pve_ipv6fw_macros' names, in their preferred spelling (init_firewall_macros). */
export const MACRO_NAMES: readonly string[] = (
  'Amanda Auth BGP BitTorrent BitTorrent32 Ceph CVS Citrix DAAP DCC DHCPfwd DHCPv6 DNS Distcc FTP Finger GNUnet ' +
  'GRE Git HKP HTTP HTTPS ICPV2 ICQ IMAP IMAPS IPIP IPsec IPsecah IPsecnat IRC Jetdirect L2TP LDAP LDAPS MSNP ' +
  'MSSQL Mail MDNS Munin MySQL NNTP NNTPS NTP NeighborDiscovery OSPF OpenVPN PCA PMG POP3 POP3S PPtP Ping ' +
  'PostgreSQL Printer RDP RIP RNDC Razor Rdate Rsync SANE SMB SMBswat SMTP SMTPS SNMP SPAMD SSH SVN SixXS ' +
  'SPICEproxy Squid Submission Syslog TFTP Telnet Telnets Time Trcrt VNC VNCL Web Webcache Webmin Whois'
).split(' ');

const MACRO_BY_LC = new Map(MACRO_NAMES.map((m) => [m.toLowerCase(), m]));

/** verify_rule: a macro is looked up case-insensitively and stored under its preferred name. */
export function preferredMacro(name: string): string | undefined {
  return MACRO_BY_LC.get(name.toLowerCase());
}

/** $icmp_type_names (iptables -p icmp -h). */
export const ICMP_TYPES: ReadonlySet<string> = new Set(
  (
    'any echo-reply destination-unreachable network-unreachable host-unreachable protocol-unreachable ' +
    'port-unreachable fragmentation-needed source-route-failed network-unknown host-unknown network-prohibited ' +
    'host-prohibited TOS-network-unreachable TOS-host-unreachable communication-prohibited ' +
    'host-precedence-violation precedence-cutoff source-quench redirect network-redirect host-redirect ' +
    'TOS-network-redirect TOS-host-redirect echo-request router-advertisement router-solicitation time-exceeded ' +
    'ttl-zero-during-transit ttl-zero-during-reassembly parameter-problem ip-header-bad required-option-missing ' +
    'timestamp-request timestamp-reply address-mask-request address-mask-reply'
  ).split(' '),
);

/** $icmpv6_type_names (ip6tables -p icmpv6 -h). */
export const ICMPV6_TYPES: ReadonlySet<string> = new Set(
  (
    'destination-unreachable no-route communication-prohibited beyond-scope address-unreachable port-unreachable ' +
    'failed-policy reject-route packet-too-big time-exceeded ttl-zero-during-transit ttl-zero-during-reassembly ' +
    'parameter-problem bad-header unknown-header-type unknown-option echo-request echo-reply router-solicitation ' +
    'router-advertisement neighbor-solicitation neighbour-solicitation neighbor-advertisement ' +
    'neighbour-advertisement redirect'
  ).split(' '),
);

/** $PROTOCOLS_WITH_PORTS: the protocols a dport/sport may go with (besides ICMP types in dport). */
const PROTOCOLS_WITH_PORTS = new Set(['udp', '17', 'udplite', '136', 'tcp', '6', 'dccp', '33', 'sctp', '132']);

const isIcmp = (proto: string | undefined) => proto === 'icmp' || proto === 'icmpv6' || proto === 'ipv6-icmp';

/** $security_group_name_pattern, $ipset_name_pattern and $ip_alias_pattern (all the same). */
const NAME = '[A-Za-z][A-Za-z0-9_-]+';
export const SECURITY_GROUP_NAME = new RegExp(`^${NAME}$`);
/** $max_group_name_length: a longer [group …] header is skipped by generic_fw_config_parser. */
export const MAX_GROUP_NAME_LENGTH = 18;

// ---------------------------------------------------------------- reading a line

export type ParsedRule = { rule: FwRule } | { error: string };

/**
 * One line of [RULES] (already trimmed) as parse_fw_rule reads it: the comment from the first `#`, a
 * leading `|` for a disabled rule, `TYPE ACTION`, `MACRO(ACTION)` for in/out/forward, then the parameters
 * in any order with one or two dashes (`-i` only with one), each at most once in effect (the last wins).
 * The macro is given its preferred spelling (verify_rule), so a rule compares by what pve-firewall uses.
 */
export function parseFwRuleLine(text: string): ParsedRule {
  let line = text;
  let comment: string | undefined;
  const hash = line.indexOf('#');
  if (hash >= 0) {
    comment = trimComment(line.slice(hash + 1));
    line = line.slice(0, hash).replace(/\s+$/, '');
  }
  const enable = !line.startsWith('|');
  if (!enable) line = line.slice(1);
  const head = /^(\S+)\s+(\S+)\s*/.exec(line);
  if (!head) return { error: `unable to parse rule: ${line}` };
  line = line.slice(head[0].length);
  const type = head[1].toLowerCase();
  if (type !== 'in' && type !== 'out' && type !== 'forward' && type !== 'group')
    return { error: `unknown rule type '${head[1]}'` };
  const rule: FwRule = { type, action: head[2], enable };
  if (comment !== undefined && comment !== '') rule.comment = comment;
  if (type !== 'group') {
    const m = /^(\S+)\((ACCEPT|DROP|REJECT)\)$/.exec(rule.action);
    if (m) [rule.macro, rule.action] = [preferredMacro(m[1]) ?? m[1], m[2]];
  }
  const params: Array<[RegExp, keyof FwRule]> = [
    [/^(?:-p|--?proto) (\S+)\s*/, 'proto'],
    [/^--?dport (\S+)\s*/, 'dport'],
    [/^--?sport (\S+)\s*/, 'sport'],
    [/^--?source (\S+)\s*/, 'source'],
    [/^--?dest (\S+)\s*/, 'dest'],
    [/^--?log (emerg|alert|crit|err|warning|notice|info|debug|nolog)\s*/, 'log'],
    [/^--?icmp-type (\S+)\s*/, 'icmp-type'],
  ];
  outer: while (line.length) {
    const iface = /^-i (\S+)\s*/.exec(line);
    if (iface) {
      rule.iface = iface[1];
      line = line.slice(iface[0].length);
      continue;
    }
    if (type === 'group') break;
    for (const [re, key] of params) {
      const m = re.exec(line);
      if (m) {
        (rule as unknown as Record<string, string>)[key] = m[1];
        line = line.slice(m[0].length);
        continue outer;
      }
    }
    break;
  }
  if (line.length) return { error: `unable to parse rule parameters: ${line}` };
  return { rule };
}

// ---------------------------------------------------------------- comparing

/** What makes a rule the same rule: everything but enable, log and comment (those are updated in place). */
const IDENTITY: ReadonlyArray<keyof FwRule> = [
  'type',
  'action',
  'macro',
  'iface',
  'source',
  'dest',
  'proto',
  'dport',
  'sport',
  'icmp-type',
];

/** The same traffic rule (a differing enable, log or comment is an update of it, not another rule). */
export function sameRuleIdentity(a: FwRule, b: FwRule): boolean {
  return IDENTITY.every((k) => a[k] === b[k]);
}

/** The same rule in every part pve-firewall keeps. */
export function sameRule(a: FwRule, b: FwRule): boolean {
  return sameRuleIdentity(a, b) && a.enable === b.enable && a.log === b.log && a.comment === b.comment;
}

// ---------------------------------------------------------------- checking

/** One refusal: the rule key it is about, and why. */
export interface RuleProblem {
  key: keyof FwRule;
  message: string;
}

function ipv4Bits(s: string): bigint | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n);
}

function ipv6Bits(s: string): bigint | undefined {
  if (!isIPv6(s) || s.includes('%')) return undefined;
  let text = s;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = ipv4Bits(v4[1])!;
    text = `${text.slice(0, v4.index)}${(b >> 16n).toString(16)}:${(b & 0xffffn).toString(16)}`;
  }
  const [left, right] = text.includes('::') ? text.split('::') : [text, undefined];
  const l = left ? left.split(':') : [];
  const r = right ? right.split(':') : [];
  const groups: string[] =
    right === undefined ? l : [...l, ...new Array<string>(8 - l.length - r.length).fill('0'), ...r];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** An address as Net::IP takes it: [bits, version, width]. */
function address(s: string): [bigint, 4 | 6, number] | undefined {
  const b4 = ipv4Bits(s);
  if (b4 !== undefined) return [b4, 4, 32];
  const b6 = ipv6Bits(s);
  return b6 !== undefined ? [b6, 6, 128] : undefined;
}

/**
 * Why one element of an address list is not one Net::IP->new takes (an address, a network whose host
 * bits are zero, or a range `a-b`), or its IP version.
 */
function addressElement(e: string): { version: 4 | 6; range: boolean } | string {
  const dash = e.indexOf('-');
  if (dash >= 0) {
    const [a, b] = [address(e.slice(0, dash)), address(e.slice(dash + 1))];
    if (!a || !b || a[1] !== b[1]) return `'${e}' is not an address range (first-last, one IP version)`;
    if (a[0] > b[0]) return `range '${e}' begins after it ends`;
    return { version: a[1], range: true };
  }
  const slash = e.indexOf('/');
  const a = address(slash >= 0 ? e.slice(0, slash) : e);
  if (!a) return `'${e}' is not an IP address, network, range, alias or +ipset`;
  if (slash >= 0) {
    const len = e.slice(slash + 1);
    if (!/^\d{1,3}$/.test(len) || Number(len) > a[2]) return `'${e}' has an invalid prefix length`;
    const hostBits = a[2] - Number(len);
    if (hostBits > 0 && (a[0] & ((1n << BigInt(hostBits)) - 1n)) !== 0n)
      return `'${e}' is not a network address: its host bits are not zero (Net::IP refuses it; write the network, e.g. the address with the host part 0)`;
  }
  return { version: a[1], range: false };
}

/**
 * parse_address_list + verify_rule's ipset/alias checks: `+ipset` (optionally guest/, dc/, sdn/), an alias
 * (optionally guest/, dc/), or a comma list of addresses and networks of one IP version (a range only alone).
 * Returns the IP version of a literal list, 0 for a name, or why not.
 */
export function addressProblem(value: string): { version: 0 | 4 | 6 } | string {
  if (value.length > 512) return 'is longer than 512 characters';
  if (value.startsWith('+')) {
    if (value.length > 65) return 'names an ipset longer than 64 characters';
    return new RegExp(`^\\+(guest/|dc/|sdn/)?${NAME}$`).test(value) ? { version: 0 } : `invalid ipset name '${value}'`;
  }
  if (new RegExp(`^(dc/|guest/)?${NAME}$`).test(value))
    return value.length > 64 ? 'alias name too long (more than 64 characters)' : { version: 0 };
  const elements = value.split(',');
  if (elements.some((e) => e === '')) return 'has extraneous commas in its list';
  let version: 4 | 6 | undefined;
  let range = false;
  for (const e of elements) {
    const r = addressElement(e);
    if (typeof r === 'string') return r;
    if (version && r.version !== version) return `mixes IPv4 and IPv6 addresses ('${value}')`;
    version = r.version;
    range ||= r.range;
  }
  if (range && elements.length > 1)
    return "is a list with a range in it (pve-firewall: you can't use a range in a list)";
  return { version: version! };
}

/** A service name as /etc/services spells one (checked against the host's file at plan time). */
const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

/** parse_port_name_number_or_range: numbers, `a:b` ranges, service names (ICMP type names in dport). */
export function portsProblem(value: string, icmpDport: boolean): string | undefined {
  const items = value.split(',');
  if (items.some((i) => i === '')) return 'has extraneous commas in its list';
  let count = 0;
  let icmpPort = false;
  for (const item of items) {
    const range = /^(\d+):(\d+)$/.exec(item);
    if (range) {
      count += 2;
      const [a, b] = [Number(range[1]), Number(range[2])];
      if (a > 65535 || b > 65535) return `invalid port in '${item}'`;
      if (a > b) return `backwards range '${item}' not allowed, did you mean '${b}:${a}'?`;
    } else if (/^\d+$/.test(item)) {
      count += 1;
      if (Number(item) > 65535) return `invalid port '${item}'`;
    } else if (icmpDport && (ICMP_TYPES.has(item) || ICMPV6_TYPES.has(item))) {
      icmpPort = true;
    } else if (!SERVICE_NAME.test(item)) {
      return `invalid port '${item}'`;
    }
  }
  if (icmpPort && count > 0) return 'ICMP ports not allowed in port range';
  if (count > 15) return 'too many entries in port list (> 15 numbers)';
  return undefined;
}

/** The service names a port list names (to be found in the host's /etc/services). */
export function serviceNames(value: string, icmpDport: boolean): string[] {
  return value
    .split(',')
    .filter((i) => !/^\d+(:\d+)?$/.test(i) && !(icmpDport && (ICMP_TYPES.has(i) || ICMPV6_TYPES.has(i))));
}

/** `0` is dropped by format_rules, which writes a parameter only when Perl reads it as true. */
const ZERO_DROPPED = 'is "0", which pve-firewall drops when it saves the file (format_rules writes only true values)';

/**
 * verify_rule for `kind`, without the host's files: the problems of a rule, by key. Left to the plan
 * (it needs the host): protocol and service names, security groups and aliases that must exist.
 */
export function ruleProblems(rule: FwRule, kind: FwFileKind): RuleProblem[] {
  const out: RuleProblem[] = [];
  const add = (key: keyof FwRule, message: string) => out.push({ key, message });
  const types = kind === 'guest' ? ['in', 'out', 'group'] : ['in', 'out', 'forward', 'group'];
  if (!types.includes(rule.type))
    add(
      'type',
      `${rule.type} rules are not allowed in a ${kind === 'guest' ? "guest's" : "cluster's"} [RULES] (allowed: ${types.join(', ')})`,
    );
  for (const k of ['macro', 'iface', 'source', 'dest', 'proto', 'dport', 'sport', 'comment'] as const)
    if (rule[k] === '0') add(k, ZERO_DROPPED);
  if (rule.type === 'group') {
    if (!SECURITY_GROUP_NAME.test(rule.action) || rule.action.length > MAX_GROUP_NAME_LENGTH)
      add(
        'action',
        `'${rule.action}' is not a security group name (a letter, then letters, digits, - or _; at most ${MAX_GROUP_NAME_LENGTH})`,
      );
    for (const k of ['macro', 'source', 'dest', 'proto', 'dport', 'sport', 'log', 'icmp-type'] as const)
      if (rule[k] !== undefined) add(k, `a group rule takes only iface (format_rules writes nothing else for it)`);
  } else {
    if (!/^(ACCEPT|DROP|REJECT)$/.test(rule.action))
      add('action', `unknown action '${rule.action}' (ACCEPT, DROP or REJECT)`);
    if (rule.type === 'forward' && rule.action === 'REJECT')
      add('action', 'cannot define REJECT rules on forward chain');
  }
  if (rule.iface !== undefined) {
    if (!/^[a-z][a-z0-9_]{1,20}([:.]\d+)?$/i.test(rule.iface))
      add('iface', `invalid network interface name '${rule.iface}'`);
    else if (kind === 'guest' && !/^net\d+$/.test(rule.iface))
      add('iface', `a guest's rule names its network device (net0, net1, …), not '${rule.iface}'`);
  }
  if (rule.macro !== undefined) {
    if (!preferredMacro(rule.macro)) add('macro', `unknown macro '${rule.macro}'`);
    for (const k of ['proto', 'dport', 'sport', 'icmp-type'] as const)
      if (rule[k] !== undefined)
        add(k, `macro ${rule.macro} sets the protocol and ports itself: give either macro or ${k}`);
  }
  let version: 0 | 4 | 6 = 0;
  const setVersion = (v: 0 | 4 | 6, key: keyof FwRule) => {
    if (v && version && v !== version) add(key, 'detected mixed ipv4/ipv6 addresses in rule');
    else if (v) version = v;
  };
  const proto = rule.proto;
  if (proto !== undefined) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(proto)) add('proto', `unknown protocol '${proto}'`);
    if (proto === 'icmp') setVersion(4, 'proto');
    if (proto === 'icmpv6' || proto === 'ipv6-icmp') setVersion(6, 'proto');
  }
  if (rule.dport !== undefined) {
    const why = portsProblem(rule.dport, isIcmp(proto));
    if (why) add('dport', why);
    if (proto === undefined) add('proto', "missing property - 'dport' requires this property");
    else if (!PROTOCOLS_WITH_PORTS.has(proto) && !isIcmp(proto))
      add('dport', `protocol '${proto}' does not support ports`);
  }
  const icmpType = rule['icmp-type'];
  if (icmpType !== undefined) {
    if (!isIcmp(proto)) add('proto', "missing property - 'icmp-type' requires proto icmp, icmpv6 or ipv6-icmp");
    if (rule.dport !== undefined) add('icmp-type', "'icmp-type' cannot be specified together with 'dport'");
    if (proto === 'icmp' && !ICMP_TYPES.has(icmpType))
      add('icmp-type', `invalid icmp-type '${icmpType}' for proto 'icmp'`);
    else if ((proto === 'icmpv6' || proto === 'ipv6-icmp') && !ICMPV6_TYPES.has(icmpType))
      add('icmp-type', `invalid icmp-type '${icmpType}' for proto '${proto}'`);
  }
  if (rule.sport !== undefined) {
    const why = portsProblem(rule.sport, false);
    if (why) add('sport', why);
    if (proto === undefined) add('proto', "missing property - 'sport' requires this property");
    else if (!PROTOCOLS_WITH_PORTS.has(proto)) add('sport', `protocol '${proto}' does not support ports`);
  }
  for (const k of ['source', 'dest'] as const) {
    const v = rule[k];
    if (v === undefined) continue;
    const r = addressProblem(v);
    if (typeof r === 'string') add(k, r);
    else setVersion(r.version, k);
  }
  return out;
}

/** The alias a source or dest names (lower-cased, as the parser keys [ALIASES]), with its scope. */
export function aliasRef(value: string | undefined): { scope: '' | 'dc/' | 'guest/'; name: string } | undefined {
  if (value === undefined) return undefined;
  const m = new RegExp(`^(dc/|guest/)?(${NAME})$`).exec(value);
  return m ? { scope: (m[1] ?? '') as '' | 'dc/' | 'guest/', name: m[2].toLowerCase() } : undefined;
}

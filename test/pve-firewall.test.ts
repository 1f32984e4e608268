// pve_firewall on recorded facts: the rule grammar, canonical form and checks of pve-firewall
// (proxmox/pve-firewall src/PVE/Firewall.pm, named in each test), the file edits (other sections and lines
// byte for byte), hostile values, and the write (refused when the file changed since it was read).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pveFirewall, {
  fileStamp,
  overlay,
  planFirewall,
  writeScript,
  type FirewallArgs,
  type FirewallFacts,
} from '../modules/pve_firewall.js';
import { printFwRule, type FwRule } from '../src/encode/fw-rule.js';
import { addressProblem, parseFwRuleLine, ruleProblems } from '../src/proxmox/fw-rule.js';
import { fwOptions, parseFwFile } from '../src/proxmox/fw-file.js';
import { containerSlot, Predictions } from '../src/predictions.js';
import type { PctConfig } from '../src/proxmox/pct-config.js';

// A guest's file as pve-firewall's save_vmfw_conf writes it (format_options, format_aliases, format_ipsets,
// format_rules), plus what a human adds: `#` lines, a blank-padded line, a line pve-firewall cannot parse.
const VM_FW = `[OPTIONS]

enable: 0
policy_in: DROP
Log_Level_In: info

[ALIASES]

portainer 10.10.0.11 # the VM

[IPSET ipfilter-net0] # only its own address

10.10.0.11

[RULES]

# managed by hand before phx-play
IN SSH(ACCEPT) -i net0 -source 10.10.0.0/24
|IN ACCEPT -p tcp -dport 80 # old web
IN ACCEPT -p tcp -dport 443 -log nolog
OUT Ping(ACCEPT)
IN ACCEPT -frobnicate 1

`;

// cluster.fw as save_clusterfw_conf writes it: options, aliases, ipsets, rules, then [group …] sections.
const CLUSTER_FW = `[OPTIONS]

enable: 1
policy_in: DROP

[ALIASES]

ct101 10.10.0.101 # the proxy CT

[IPSET management]

10.10.0.0/24

[RULES]

IN SSH(ACCEPT) -i vmbr0 -source +management

[group webserver] # web in

IN HTTPS(ACCEPT)
IN HTTP(ACCEPT)

`;

const PORTAINER_RULE = {
  type: 'in',
  action: 'ACCEPT',
  source: 'ct101',
  proto: 'tcp',
  dport: 9443,
  comment: 'CT 101 → portainer',
};

const parse = (raw: unknown): FirewallArgs => pveFirewall.args.parse(raw);
const argError = (raw: unknown): string => {
  const r = pveFirewall.args.safeParse(raw);
  assert.equal(r.success, false, 'expected an argument error');
  return r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
};
const guestFacts = (text: string | null = VM_FW, over: Partial<FirewallFacts> = {}): FirewallFacts => ({
  text,
  clusterText: CLUSTER_FW,
  pve: true,
  guest: { node: 'pve1', type: 'qemu' },
  protocols: ['tcp', '6', 'udp', '17', 'icmp', '1', 'icmpv6'],
  services: ['ssh', 'http', 'https', 'domain'],
  ...over,
});
const clusterFacts = (text: string | null = CLUSTER_FW): FirewallFacts => ({ text, pve: true });
const after = (p: ReturnType<typeof planFirewall>) => {
  assert.equal(p.fail, undefined, p.fail);
  return Array.isArray(p.diff) || !p.diff ? assert.fail('no diff') : p.diff.after;
};

// ---------------------------------------------------------------- the grammar

test('a rule line is read as parse_fw_rule reads it (Firewall.pm parse_fw_rule)', () => {
  // the comment starts at the FIRST "#", and is trimmed; "|" disables; type is case-insensitive
  assert.deepEqual(parseFwRuleLine('|in ACCEPT -p tcp -dport 22 # ssh # from admins  '), {
    rule: { type: 'in', action: 'ACCEPT', enable: false, proto: 'tcp', dport: '22', comment: 'ssh # from admins' },
  });
  // one or two dashes, any order; "-i" only with one; a macro is MACRO(ACTION), looked up case-insensitively
  // and kept under its preferred name (verify_rule: $pve_fw_preferred_macro_names)
  assert.deepEqual(parseFwRuleLine('OUT ssh(DROP) --dest 10.0.0.1 -i net1'), {
    rule: { type: 'out', action: 'DROP', macro: 'SSH', dest: '10.0.0.1', iface: 'net1', enable: true },
  });
  // a group rule takes only -i: anything after it is not parsed
  assert.deepEqual(parseFwRuleLine('GROUP webserver -i net0'), {
    rule: { type: 'group', action: 'webserver', iface: 'net0', enable: true },
  });
  assert.match(JSON.stringify(parseFwRuleLine('GROUP webserver -p tcp')), /unable to parse rule parameters: -p tcp/);
  assert.match(JSON.stringify(parseFwRuleLine('IN ACCEPT -frobnicate 1')), /unable to parse rule parameters/);
  assert.match(JSON.stringify(parseFwRuleLine('IN')), /unable to parse rule/);
  // "--i" is not "-i" (the regex is /^-i (\S+)/)
  assert.match(JSON.stringify(parseFwRuleLine('IN ACCEPT --i net0')), /unable to parse rule parameters/);
  // the comment's trim is Perl's \s on the file's bytes: ASCII blanks only (a no-break space stays)
  assert.deepEqual(parseFwRuleLine('IN DROP # a\u00a0'), {
    rule: { type: 'in', action: 'DROP', enable: true, comment: 'a\u00a0' },
  });
  // an empty comment is no comment (format_rules writes none for a blank one)
  assert.deepEqual(parseFwRuleLine('IN DROP #'), { rule: { type: 'in', action: 'DROP', enable: true } });
});

test('a rule is written in the form format_rules writes (Firewall.pm $format_rules)', () => {
  const r: FwRule = {
    type: 'in',
    action: 'ACCEPT',
    macro: 'SSH',
    iface: 'net0',
    source: '+management',
    dest: '10.0.0.1',
    log: 'info',
    comment: ' admins ',
    enable: false,
  };
  // "|", TYPE in capitals, MACRO(ACTION), -i, then source, dest, proto, dport, sport, log, icmp-type, " # comment"
  assert.equal(printFwRule(r), '|IN SSH(ACCEPT) -i net0 -source +management -dest 10.0.0.1 -log info # admins');
  assert.equal(
    printFwRule({
      type: 'out',
      action: 'REJECT',
      proto: 'icmp',
      'icmp-type': 'echo-request',
      sport: '1',
      dport: undefined,
      enable: true,
    }),
    'OUT REJECT -p icmp -sport 1 -icmp-type echo-request',
  );
  // a blank comment is left out; a group rule writes only -i
  assert.equal(
    printFwRule({ type: 'group', action: 'webserver', iface: 'net0', comment: '  ', enable: true }),
    'GROUP webserver -i net0',
  );
  // what is written reads back as the same rule
  assert.deepEqual(parseFwRuleLine(printFwRule(r)), { rule: { ...r, comment: 'admins' } });
  const udp: FwRule = { type: 'in', action: 'DROP', proto: 'udp', dport: '53,5353:5354', enable: true };
  assert.deepEqual(parseFwRuleLine(printFwRule(udp)), { rule: udp });
});

// ---------------------------------------------------------------- hostile values

test('a value cannot add a parameter, a comment, a rule or a section (format_rules splits on blanks, # and lines)', () => {
  const hostile: Array<[string, Record<string, unknown>, RegExp]> = [
    ['source', { source: '10.0.0.1 -dport 22' }, /source: must not contain blanks/],
    ['action', { action: 'ACCEPT -source 0.0.0.0/0' }, /action: must not contain blanks/],
    ['dport', { proto: 'tcp', dport: '22#x' }, /dport: must not contain "#"/],
    ['dest', { dest: '10.0.0.1\n[OPTIONS]' }, /dest: must be one line/],
    ['iface', { iface: 'net0\tx' }, /iface: must not contain blanks/],
    ['comment', { comment: 'ok\nIN ACCEPT' }, /comment: must be one line/],
    ['comment', { comment: 'ok\rIN ACCEPT' }, /comment: must be one line/],
    ['comment', { comment: 'bell\x07' }, /comment: must not contain control characters/],
    ['proto', { proto: 'tcp\0' }, /proto: must not contain a NUL/],
    ['macro', { macro: 'SSH(ACCEPT) -i' }, /macro: must not contain blanks/],
  ];
  for (const [, extra, re] of hostile) {
    assert.match(argError({ vmid: 1001, rules: [{ type: 'in', action: 'ACCEPT', ...extra }] }), re);
  }
  // option values are enums: a policy cannot carry a line
  assert.match(argError({ vmid: 1001, options: { policy_in: 'DROP\nenable: 1' } }), /options\.policy_in/);
  // the printers check again, for a value that got past the schema
  assert.throws(
    () => printFwRule({ type: 'in', action: 'ACCEPT', source: '1.2.3.4 -p tcp', enable: true }),
    /must not contain blanks/,
  );
  assert.throws(() => printFwRule({ type: 'in', action: 'ACCEPT', comment: 'a\nb', enable: true }), /one line/);
});

// ---------------------------------------------------------------- what pve-firewall would ignore

test("verify_rule's refusals are the task's: the rule would otherwise be skipped by the compiler (Firewall.pm verify_rule)", () => {
  const bad = (rule: Record<string, unknown>, re: RegExp, kind: 'vmid' | 'cluster' = 'vmid') =>
    assert.match(
      argError({
        ...(kind === 'vmid' ? { vmid: 1001 } : { cluster: true }),
        rules: [{ type: 'in', action: 'ACCEPT', ...rule }],
      }),
      re,
    );
  // $rule_env_direction_lookup: vm/ct take in, out, group
  bad({ type: 'forward' }, /forward rules are not allowed in a guest's \[RULES\]/);
  bad({ type: 'forward', action: 'REJECT' }, /cannot define REJECT rules on forward chain/, 'cluster');
  bad({ action: 'allow' }, /unknown action 'allow'/);
  // a guest's rule names net\d+; pve_verify_iface for the cluster's
  bad({ iface: 'vmbr0' }, /names its network device \(net0, net1, …\), not 'vmbr0'/);
  bad({ iface: 'x' }, /invalid network interface name 'x'/, 'cluster');
  bad({ macro: 'Nope' }, /unknown macro 'Nope'/);
  bad({ macro: 'SSH', dport: 2222, proto: 'tcp' }, /macro SSH sets the protocol and ports itself/);
  bad({ dport: 22 }, /'dport' requires this property/);
  bad({ proto: 'gre', dport: 22 }, /protocol 'gre' does not support ports/);
  bad({ proto: 'tcp', dport: '90:80' }, /backwards range '90:80' not allowed, did you mean '80:90'\?/);
  bad({ proto: 'tcp', dport: '65536' }, /invalid port '65536'/);
  bad({ proto: 'tcp', dport: '1,,2' }, /extraneous commas/);
  bad({ proto: 'tcp', dport: '1:2,3:4,5:6,7:8,9:10,11:12,13:14,15:16' }, /too many entries in port list/);
  bad({ proto: 'icmp', dport: 'echo-request,8' }, /ICMP ports not allowed in port range/);
  bad(
    { proto: 'icmp', 'icmp-type': 'neighbor-solicitation' },
    /invalid icmp-type 'neighbor-solicitation' for proto 'icmp'/,
  );
  bad({ proto: 'tcp', 'icmp-type': 'echo-request' }, /'icmp-type' requires proto icmp/);
  // parse_address_list: Net::IP refuses host bits under the prefix, mixed versions, a range in a list
  bad({ source: '10.0.0.5/24' }, /not a network address/);
  bad({ source: '10.0.0.1,fd00::1' }, /mixes IPv4 and IPv6/);
  bad({ source: '10.0.0.1-10.0.0.9,10.0.1.1' }, /range in a list/);
  bad({ source: '10.0.0.9-10.0.0.1' }, /begins after it ends/);
  bad({ source: '+bad/name' }, /invalid ipset name/);
  bad({ source: '10.0.0.1', proto: 'icmpv6' }, /mixed ipv4\/ipv6 addresses in rule/);
  // format_rules writes a parameter only when it is true in Perl: "0" would vanish from the file
  bad({ proto: 'tcp', dport: 0 }, /drops when it saves the file/);
  bad({ comment: '0' }, /drops when it saves the file/);
  // a group rule has only -i
  assert.match(
    argError({ vmid: 1001, rules: [{ type: 'group', action: 'webserver', proto: 'tcp' }] }),
    /a group rule takes only iface/,
  );
  // the same rule twice is a mistake
  assert.match(
    argError({
      vmid: 1001,
      rules: [
        { type: 'in', action: 'DROP' },
        { type: 'in', action: 'DROP', comment: 'x' },
      ],
    }),
    /rules\.1: the same rule as rules\[0\]/,
  );
  // accepted: what pve-firewall takes
  for (const source of [
    '10.0.0.0/8',
    '10.0.0.1-10.0.0.9',
    'fd00::/8',
    '2001:db8::1,2001:db8::2',
    'dc/ct101',
    '+guest/ipfilter-net0',
    '::ffff:10.0.0.1',
  ])
    assert.equal(typeof addressProblem(source), 'object', source);
  assert.deepEqual(
    ruleProblems({ type: 'in', action: 'ACCEPT', proto: 'icmp', dport: 'echo-request', enable: true }, 'guest'),
    [],
  );
});

test('exactly one of vmid and cluster; options by the file kind ($vm_option_properties, $cluster_option_properties)', () => {
  assert.match(argError({ enable: true }), /exactly one of vmid/);
  assert.match(argError({ vmid: 101, cluster: true, enable: true }), /exactly one of vmid/);
  assert.match(argError({ vmid: 99, enable: true }), /vmid is from 100/);
  assert.match(argError({ cluster: true, options: { dhcp: true } }), /dhcp is not an option of the cluster firewall/);
  assert.match(argError({ vmid: 101, options: { ebtables: true } }), /ebtables is not an option of a guest's firewall/);
  assert.match(argError({ vmid: 101, options: { enable: 1 } }), /enable is an argument of its own/);
  assert.match(argError({ cluster: true, options: { policy_forward: 'REJECT' } }), /options\.policy_forward/);
  assert.match(argError({ vmid: 101 }), /nothing to keep/);
  const a = parse({
    cluster: true,
    enable: false,
    options: { policy_out: 'REJECT', log_ratelimit: { enable: true, rate: '10/second' }, ebtables: null },
  });
  assert.deepEqual(a.options, {
    enable: '0',
    policy_out: 'REJECT',
    log_ratelimit: 'enable=1,rate=10/second',
    ebtables: null,
  });
  assert.equal(a.path, '/etc/pve/firewall/cluster.fw');
  assert.equal(parse({ vmid: '1001', enable: true }).path, '/etc/pve/firewall/1001.fw');
});

// ---------------------------------------------------------------- the plan

test('exact: [RULES] becomes the list; other sections, comments and other lines stay byte for byte; second run ok', () => {
  const a = parse({
    vmid: 1001,
    enable: true,
    rules: [PORTAINER_RULE, { type: 'in', action: 'ACCEPT', macro: 'ssh', iface: 'net0', source: '10.10.0.0/24' }],
  });
  const p = planFirewall(guestFacts(), a);
  const text = after(p);
  assert.equal(
    text,
    VM_FW.replace('enable: 0', 'enable: 1').replace(
      /IN SSH\(ACCEPT\)[^]*-frobnicate 1\n/,
      'IN ACCEPT -source ct101 -p tcp -dport 9443 # CT 101 → portainer\nIN SSH(ACCEPT) -i net0 -source 10.10.0.0/24\n',
    ),
  );
  // the SSH rule was there already (second in the file, first after the new one: exact means in order)
  assert.deepEqual(p.result!.rules_added, ['IN ACCEPT -source ct101 -p tcp -dport 9443 # CT 101 → portainer']);
  assert.deepEqual(p.result!.rules_removed, [
    '|IN ACCEPT -p tcp -dport 80 # old web',
    'IN ACCEPT -p tcp -dport 443 -log nolog',
    'OUT Ping(ACCEPT)',
    'IN ACCEPT -frobnicate 1',
  ]);
  assert.equal(p.msg, 'firewall of guest 1001: set enable: 1; 1 rule added; 4 rules removed');
  assert.deepEqual(p.diff, {
    before: VM_FW,
    after: text,
    before_header: '/etc/pve/firewall/1001.fw',
    after_header: '/etc/pve/firewall/1001.fw',
  });
  const again = planFirewall(guestFacts(text), a);
  assert.equal(again.changes.length, 0, again.msg);
  assert.equal(again.msg, 'firewall of guest 1001 is as wanted');
});

test('rules equal in content are equal: a hand-written line in another spelling is left as it is', () => {
  const hand = '[RULES]\n\n  in  ssh(ACCEPT)   --source 10.10.0.0/24 -i net0 #  admins \t\n';
  const a = parse({
    vmid: 1001,
    rules: [{ type: 'in', action: 'ACCEPT', macro: 'SSH', iface: 'net0', source: '10.10.0.0/24', comment: 'admins' }],
  });
  const p = planFirewall(guestFacts(hand), a);
  assert.equal(p.changes.length, 0, p.msg);
  assert.deepEqual(p.result!.rules, ['in  ssh(ACCEPT)   --source 10.10.0.0/24 -i net0 #  admins']);
});

test('present: listed rules are made present in order, others stay; enable/log/comment updated in place', () => {
  const a = parse({
    vmid: 1001,
    rules_mode: 'present',
    rules: [
      { type: 'in', action: 'ACCEPT', proto: 'tcp', dport: 80, comment: 'web', enable: true },
      PORTAINER_RULE,
      { type: 'out', action: 'ACCEPT', macro: 'Ping' },
    ],
  });
  const p = planFirewall(guestFacts(), a);
  const text = after(p);
  assert.match(
    text,
    /\[RULES\]\n\n# managed by hand before phx-play\nIN SSH\(ACCEPT\) -i net0 -source 10\.10\.0\.0\/24\nIN ACCEPT -p tcp -dport 80 # web\nIN ACCEPT -source ct101 -p tcp -dport 9443 # CT 101 → portainer\nIN ACCEPT -p tcp -dport 443 -log nolog\nOUT Ping\(ACCEPT\)\nIN ACCEPT -frobnicate 1\n\n$/,
  );
  assert.deepEqual(p.result!.rules_updated, [
    { from: '|IN ACCEPT -p tcp -dport 80 # old web', to: 'IN ACCEPT -p tcp -dport 80 # web' },
  ]);
  assert.deepEqual(p.result!.rules_removed, []);
  assert.equal(planFirewall(guestFacts(text), a).changes.length, 0);
  // the first listed rule, missing, goes before the first listed rule that is there
  const b = parse({
    vmid: 1001,
    rules_mode: 'present',
    rules: [
      { type: 'in', action: 'DROP', source: '10.10.0.66' },
      { type: 'out', action: 'ACCEPT', macro: 'Ping' },
    ],
  });
  assert.match(after(planFirewall(guestFacts(), b)), /-log nolog\nIN DROP -source 10\.10\.0\.66\nOUT Ping\(ACCEPT\)\n/);
});

test('a missing file or section is made where save_vmfw_conf puts it; the directory is made as it does (mkdir)', () => {
  const a = parse({ vmid: 1001, enable: true, rules: [PORTAINER_RULE] });
  const fresh = planFirewall(guestFacts(null), a);
  assert.equal(
    after(fresh),
    '[OPTIONS]\n\nenable: 1\n\n[RULES]\n\nIN ACCEPT -source ct101 -p tcp -dport 9443 # CT 101 → portainer\n',
  );
  assert.equal((fresh.diff as { before_header: string }).before_header, '/etc/pve/firewall/1001.fw (absent)');
  assert.equal(fresh.changes[0].description, 'create /etc/pve/firewall/1001.fw');
  // cluster.fw: [RULES] before the first [group …]
  const c = parse({ cluster: true, rules: [{ type: 'in', action: 'ACCEPT', macro: 'SSH', source: '+management' }] });
  const noRules = CLUSTER_FW.replace('[RULES]\n\nIN SSH(ACCEPT) -i vmbr0 -source +management\n\n', '');
  assert.match(
    after(planFirewall(clusterFacts(noRules), c)),
    /10\.10\.0\.0\/24\n\n\[RULES\]\n\nIN SSH\(ACCEPT\) -source \+management\n\n\[group webserver\] # web in\n/,
  );
});

test('options: keys read case-insensitively, the last line of a key wins, null removes (parse_vmfw_option, parse_clusterfw_option)', () => {
  const text =
    '# top\n[OPTIONS]\nenable: 1\nLOG_LEVEL_IN:  INFO \npolicy_in: accept\npolicy_in: drop\ndhcp: yes\n\n[RULES]\nIN DROP\n';
  assert.deepEqual(fwOptions(parseFwFile(text, 'guest'), 'guest'), {
    enable: '1',
    log_level_in: 'info',
    policy_in: 'DROP',
  });
  const same = planFirewall(
    guestFacts(text),
    parse({ vmid: 1001, enable: true, options: { log_level_in: 'info', policy_in: 'DROP' } }),
  );
  assert.equal(same.changes.length, 0, same.msg);
  const p = planFirewall(
    guestFacts(text),
    parse({ vmid: 1001, options: { policy_in: 'REJECT', dhcp: true, log_level_in: null, macfilter: false } }),
  );
  assert.equal(after(p), '# top\n[OPTIONS]\nenable: 1\npolicy_in: REJECT\ndhcp: 1\nmacfilter: 0\n\n[RULES]\nIN DROP\n');
  assert.deepEqual(p.result!.options_changed, { policy_in: 'REJECT', dhcp: '1', log_level_in: null, macfilter: '0' });
  // cluster.fw's enable may be a time stamp (the GUI's enable awaiting confirmation): not "1"
  const stamp = planFirewall(clusterFacts('[OPTIONS]\n\nenable: 1733540000\n'), parse({ cluster: true, enable: true }));
  assert.equal(after(stamp), '[OPTIONS]\n\nenable: 1\n');
  // log_ratelimit compared as a property string (enable is its default key)
  const rl = planFirewall(
    clusterFacts('[OPTIONS]\nlog_ratelimit: 1,burst=5,rate=10/second\n'),
    parse({ cluster: true, options: { log_ratelimit: { enable: true, rate: '10/second', burst: 5 } } }),
  );
  assert.equal(rl.changes.length, 0, rl.msg);
});

test('what pve-firewall would ignore and only the host can tell: groups, aliases, protocols, services', () => {
  const fail = (f: FirewallFacts, rule: Record<string, unknown>) =>
    planFirewall(f, parse({ vmid: 1001, rules: [{ type: 'in', action: 'ACCEPT', ...rule }] })).fail ?? '';
  // generate_group_rules: an unknown group is an empty chain; groups are cluster.fw's, lower-cased
  assert.match(
    fail(guestFacts(), { type: 'group', action: 'dbserver' }),
    /no security group 'dbserver' in \/etc\/pve\/firewall\/cluster\.fw/,
  );
  assert.equal(fail(guestFacts(), { type: 'group', action: 'webserver' }), '');
  // verify_rule: an alias of the guest's file or of cluster.fw; dc/ only the cluster's, guest/ only the guest's
  assert.equal(fail(guestFacts(), { source: 'portainer' }), '');
  assert.equal(fail(guestFacts(), { source: 'dc/CT101' }), '');
  assert.match(fail(guestFacts(), { source: 'dc/portainer' }), /no alias 'dc\/portainer'/);
  assert.match(fail(guestFacts(), { source: 'guest/ct101' }), /no alias 'guest\/ct101'/);
  // get_etc_protocols / get_etc_services: names the host's files list
  assert.match(fail(guestFacts(), { proto: 'tcpp' }), /unknown protocol 'tcpp'/);
  assert.match(fail(guestFacts(), { proto: 'tcp', dport: 'htps' }), /invalid port 'htps'/);
  assert.equal(fail(guestFacts(), { proto: 'tcp', dport: 'https,8000:8080' }), '');
  assert.equal(
    fail(guestFacts(undefined, { protocols: undefined, services: undefined }), { proto: 'tcpp' }),
    '',
    'unreadable lists: no check',
  );
});

test('the guest must exist in the cluster; a CT an earlier task would create counts (check mode)', () => {
  const a = parse({ vmid: 101, enable: true });
  assert.match(planFirewall(guestFacts(null, { guest: null }), a).fail!, /no guest 101 in the cluster/);
  assert.match(
    planFirewall({ ...clusterFacts(), pve: false }, parse({ cluster: true, enable: true })).fail!,
    /not a Proxmox VE host/,
  );
  const predicted = new Predictions();
  containerSlot.set(predicted, 101, { config: {} as PctConfig, status: 'running' });
  const f = overlay(guestFacts(null, { guest: null }), a, predicted);
  const p = planFirewall(f, a);
  assert.equal(p.fail, undefined);
  assert.match(p.msg!, /\(after the changes earlier tasks would make\)$/);
  containerSlot.set(predicted, 101, null);
  assert.equal(overlay(guestFacts(), a, predicted).guest, null, 'a CT an earlier task would destroy is gone');
});

// ---------------------------------------------------------------- the write

test('the write: atomic, mode 0640 as pmxcfs keeps it, no chown, refused when the file changed since it was read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'phx-fw-'));
  try {
    const path = join(dir, 'firewall', '1001.fw');
    const script = (stamp: string, content: string) => writeScript(path, stamp, Buffer.byteLength(content));
    assert.doesNotMatch(script('absent', 'x'), /chown/);
    const run = (s: string, input: string) => spawnSync('sh', ['-c', s], { input, encoding: 'utf8' });
    // absent, and still absent: made (with its directory, as save_vmfw_conf's mkdir)
    const first = '[OPTIONS]\n\nenable: 1\n';
    assert.equal(run(script(fileStamp(null), first), first).status, 0);
    assert.equal(readFileSync(path, 'utf8'), first);
    assert.equal(statSync(path).mode & 0o777, 0o640);
    // someone edited it after our read: nothing written
    writeFileSync(path, '[OPTIONS]\n\nenable: 0\n');
    const r = run(script(fileStamp(first), 'new\n'), 'new\n');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /changed since it was read/);
    assert.equal(readFileSync(path, 'utf8'), '[OPTIONS]\n\nenable: 0\n');
    // as read: replaced
    assert.equal(run(script(fileStamp('[OPTIONS]\n\nenable: 0\n'), 'new\n'), 'new\n').status, 0);
    assert.equal(readFileSync(path, 'utf8'), 'new\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

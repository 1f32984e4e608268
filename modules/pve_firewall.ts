// pve_firewall — a guest's or the cluster's firewall file (/etc/pve/firewall/<vmid>.fw, cluster.fw) as
// declared: [OPTIONS] keys (`enable` and `options:`) and the rules of [RULES] (`rules:`), in pve-firewall's
// own format (proxmox/pve-firewall src/PVE/Firewall.pm). Rules are known by their content: `rules_mode:
// exact` makes [RULES] exactly the list, `present` only makes sure each listed rule is there. Every other
// line of the file (aliases, ipsets, security groups, comments) is written back byte for byte. The file is
// replaced atomically, and only if nobody changed it since it was read.
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { clusterMembership, clusterScopeKey } from '../src/proxmox/cluster.js';
import { defineModule, CommandFailed, ModuleError, type ModuleContext, type Plan } from '../src/module.js';
import { runBatch } from '../src/remote/batch.js';
import { writeFileScript } from '../src/remote/write.js';
import { pmxcfsMode } from '../src/remote/pmxcfs.js';
import { shellQuote } from '../src/quote.js';
import { containerSlot, type Predictions } from '../src/predictions.js';
import { fwComment, fwWord } from '../src/encode/schemas.js';
import { printPropertyString } from '../src/encode/property-string.js';
import { trimComment, type FwRule } from '../src/encode/fw-rule.js';
import {
  LOG_LEVELS,
  aliasRef,
  preferredMacro,
  ruleProblems,
  sameRuleIdentity,
  serviceNames,
  type FwFileKind,
} from '../src/proxmox/fw-rule.js';
import { optionsOf } from '../src/proxmox/fw-options.js';
import {
  editOptions,
  editRulesExact,
  editRulesPresent,
  fwNames,
  fwOptions,
  fwRules,
  parseFwFile,
  renderFwFile,
  trimmed,
  type RulesChange,
} from '../src/proxmox/fw-file.js';

export const FIREWALL_DIR = '/etc/pve/firewall';
export const CLUSTER_FW = `${FIREWALL_DIR}/cluster.fw`;

// ---------------------------------------------------------------- arguments

const logLevel = () => z.enum(LOG_LEVELS);
const port = () =>
  z
    .union([z.string(), z.number().int().min(0).max(65535)])
    .transform(String)
    .pipe(fwWord());

/** A rule as the API names its parameters (pve-firewall $rule_properties). */
const ruleArg = () =>
  z
    .object({
      type: z.enum(['in', 'out', 'forward', 'group']),
      action: fwWord().describe('ACCEPT, DROP or REJECT; the security group for type group'),
      macro: fwWord().optional().describe('a pve-firewall macro (SSH, HTTPS, Ping, …)'),
      iface: fwWord().optional().describe("a guest's network device (net0); any interface in cluster.fw"),
      source: fwWord().optional().describe('address, network, range, list, alias or +ipset'),
      dest: fwWord().optional(),
      proto: fwWord().optional().describe('a name or number of /etc/protocols'),
      dport: port().optional().describe('ports, ranges a:b, service names, comma-separated'),
      sport: port().optional(),
      log: logLevel().optional(),
      'icmp-type': fwWord().optional(),
      comment: fwComment().optional(),
      enable: z.boolean().default(true),
    })
    .strict();

const ratelimit = () =>
  z
    .object({
      enable: z.boolean().optional(),
      rate: z
        .string()
        .regex(/^[1-9][0-9]*\/(second|minute|hour|day)$/, 'rate is N/second, N/minute, N/hour or N/day')
        .optional(),
      burst: z.number().int().min(0).optional(),
    })
    .strict();

type RuleArg = z.output<ReturnType<typeof ruleArg>>;

export interface FirewallArgs {
  kind: FwFileKind;
  /** the guest, for its file */
  vmid?: string;
  path: string;
  /** [OPTIONS] key → value as written; null: remove the key */
  options: Record<string, string | null>;
  /** the rules, undefined: [RULES] left alone */
  rules?: FwRule[];
  mode: 'exact' | 'present';
}

/** A rule argument as pve-firewall keeps it: the macro in its preferred spelling, absent keys left out. */
function toRule(r: RuleArg): FwRule {
  const rule: FwRule = { type: r.type, action: r.action, enable: r.enable };
  for (const k of ['macro', 'iface', 'source', 'dest', 'proto', 'dport', 'sport', 'log', 'icmp-type'] as const) {
    const v = r[k];
    if (v !== undefined) rule[k] = v;
  }
  if (rule.macro !== undefined) rule.macro = preferredMacro(rule.macro) ?? rule.macro;
  const comment = r.comment === undefined ? undefined : trimComment(r.comment);
  if (comment) rule.comment = comment;
  return rule;
}

/** An option's value as written: booleans are already 0/1, log_ratelimit becomes its property string. */
function optionValue(v: string | z.output<ReturnType<typeof ratelimit>> | null): string | null {
  if (v === null || typeof v === 'string') return v;
  const parts: Array<[string, string]> = [];
  if (v.enable !== undefined) parts.push(['enable', v.enable ? '1' : '0']);
  if (v.rate !== undefined) parts.push(['rate', v.rate]);
  if (v.burst !== undefined) parts.push(['burst', String(v.burst)]);
  return printPropertyString(undefined, parts);
}

const args = () => {
  const boolish = z
    .union([z.boolean(), z.literal(0), z.literal(1)])
    .transform((v) => (v === true || v === 1 ? '1' : '0'));
  const policy = z.enum(['ACCEPT', 'DROP', 'REJECT']);
  /** [OPTIONS] keys besides enable; which ones a file takes depends on its kind (checked below). `null` removes a key. */
  const optionsArg = z
    .object({
      enable: z
        .unknown()
        .refine(() => false, { message: 'enable is an argument of its own: write `enable: true` beside options' })
        .optional(),
      dhcp: boolish.nullable().optional(),
      ndp: boolish.nullable().optional(),
      radv: boolish.nullable().optional(),
      macfilter: boolish.nullable().optional(),
      ipfilter: boolish.nullable().optional(),
      ebtables: boolish.nullable().optional(),
      policy_in: policy.nullable().optional(),
      policy_out: policy.nullable().optional(),
      policy_forward: z.enum(['ACCEPT', 'DROP']).nullable().optional(),
      log_level_in: logLevel().nullable().optional(),
      log_level_out: logLevel().nullable().optional(),
      log_ratelimit: ratelimit().nullable().optional(),
    })
    .strict();
  return z
    .object({
      vmid: z
        .union([z.number().int(), z.string().regex(/^\d+$/, 'vmid is a guest id (a number)')])
        .transform(String)
        .refine((v) => Number(v) >= 100 && Number(v) <= 999999999, 'vmid is from 100 to 999999999')
        .optional()
        .describe('the guest whose firewall file (/etc/pve/firewall/<vmid>.fw) is kept'),
      cluster: z.literal(true).optional().describe('keep the cluster firewall file (/etc/pve/firewall/cluster.fw)'),
      enable: z.boolean().optional().describe('[OPTIONS] enable: the firewall of the guest or cluster on or off'),
      options: optionsArg.optional().describe('other [OPTIONS] keys; null removes one'),
      rules: z.array(ruleArg()).optional().describe('the rules of [RULES]; omitted: left as they are'),
      rules_mode: z.enum(['exact', 'present']).default('exact'),
    })
    .strict()
    .superRefine((a, c) => {
      const issue = (path: (string | number)[], message: string) => c.addIssue({ code: 'custom', path, message });
      if ((a.vmid === undefined) === (a.cluster === undefined))
        return issue(['vmid'], "give exactly one of vmid (a guest's firewall) or cluster: true (the cluster's)");
      const kind: FwFileKind = a.cluster ? 'cluster' : 'guest';
      const allowed = optionsOf(kind);
      for (const [k, v] of Object.entries(a.options ?? {})) {
        if (v !== undefined && k !== 'enable' && !(k in allowed))
          issue(
            ['options', k],
            `${k} is not an option of ${kind === 'guest' ? "a guest's" : 'the cluster'} firewall (allowed: ${Object.keys(
              allowed,
            )
              .filter((o) => o !== 'enable')
              .join(', ')})`,
          );
      }
      const rules = (a.rules ?? []).map(toRule);
      rules.forEach((r, i) => {
        for (const p of ruleProblems(r, kind)) issue(['rules', i, p.key], p.message);
        const twin = rules.findIndex((o) => sameRuleIdentity(o, r));
        if (twin < i) issue(['rules', i], `the same rule as rules[${twin}]`);
      });
      if (a.enable === undefined && a.options === undefined && a.rules === undefined)
        issue(['rules'], 'nothing to keep: give enable, options or rules');
    })
    .transform((a): FirewallArgs => {
      const kind: FwFileKind = a.cluster ? 'cluster' : 'guest';
      const options: Record<string, string | null> = {};
      if (a.enable !== undefined) options.enable = a.enable ? '1' : '0';
      for (const [k, v] of Object.entries(a.options ?? {})) if (v !== undefined) options[k] = optionValue(v);
      return {
        kind,
        vmid: a.vmid,
        path: kind === 'cluster' ? CLUSTER_FW : `${FIREWALL_DIR}/${a.vmid}.fw`,
        options,
        rules: a.rules?.map(toRule),
        mode: a.rules_mode,
      };
    });
};

// ---------------------------------------------------------------- facts

export interface FirewallFacts {
  /** the file's content; null: no file */
  text: string | null;
  /** cluster.fw's content, for a guest's file (security groups and aliases are the cluster's) */
  clusterText?: string | null;
  /** /etc/pve/nodes exists (a Proxmox VE host) */
  pve: boolean;
  /** the guest's config, for a guest's file: where it is, or null when no node has it */
  guest?: { node: string; type: 'lxc' | 'qemu' } | null;
  /** names of the host's /etc/protocols and /etc/services (undefined: not read or unreadable) */
  protocols?: string[];
  services?: string[];
  /** the facts include check-mode predictions of earlier tasks */
  predicted?: boolean;
}

const GUEST_SCRIPT =
  '[ -d /etc/pve/nodes ] && echo pve; [ -n "$1" ] || exit 0; for f in /etc/pve/nodes/*/lxc/"$1".conf /etc/pve/nodes/*/qemu-server/"$1".conf; do [ -e "$f" ] && printf "%s\\n" "$f"; done; exit 0';

/** A file's bytes as text; null when missing. Not UTF-8 (pve-firewall decodes comments as UTF-8): refused. */
function fileText(path: string, r: { rc: number; stdout: string; stderr: string }, argv: string[]): string | null {
  if (r.rc !== 0) {
    if (/No such file/i.test(r.stderr)) return null;
    throw new CommandFailed(argv, r);
  }
  const bytes = Buffer.from(r.stdout.trim(), 'base64');
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new ModuleError(`${path} is not UTF-8 text: not editing it`);
  }
}

/** The names of a /etc/protocols or /etc/services (parse_protocol_file, get_etc_services): first column. */
function firstColumns(text: string, services: boolean): string[] {
  const out: string[] = [];
  for (const l of text.split('\n')) {
    if (l.startsWith('#')) continue;
    const m = services ? /^(\S+)\s+(\S+)\/(tcp|udp|sctp)/.exec(l) : /^(\S+)\s+(\d+)(?:\s|$)/.exec(l);
    if (m) out.push(m[1], ...(services ? [] : [m[2]]));
  }
  return out;
}

async function facts(ctx: ModuleContext, a: FirewallArgs): Promise<FirewallFacts> {
  const read = (p: string) => ['base64', '-w0', '--', p];
  const names = (a.rules ?? []).some((r) => r.proto !== undefined);
  const cmds: string[][] = [read(a.path), ['sh', '-c', GUEST_SCRIPT, 'sh', a.vmid ?? '']];
  if (a.kind === 'guest') cmds.push(read(CLUSTER_FW));
  if (names) cmds.push(['cat', '/etc/protocols'], ['cat', '/etc/services']);
  const r = await runBatch(ctx, cmds);
  const out: FirewallFacts = {
    text: fileText(a.path, r[0], cmds[0]),
    pve: /^pve$/m.test(r[1].stdout),
  };
  if (a.kind === 'guest') {
    const conf = /^\/etc\/pve\/nodes\/([^/]+)\/(lxc|qemu-server)\/\d+\.conf$/m.exec(r[1].stdout);
    out.guest = conf ? { node: conf[1], type: conf[2] === 'lxc' ? 'lxc' : 'qemu' } : null;
    out.clusterText = fileText(CLUSTER_FW, r[2], cmds[2]);
  }
  if (names) {
    const [p, s] = r.slice(-2);
    // pve-firewall adds icmpv6 to what /etc/protocols lists (get_etc_protocols)
    if (p.rc === 0) out.protocols = [...firstColumns(p.stdout, false), 'icmpv6'];
    if (s.rc === 0) out.services = firstColumns(s.stdout, true);
  }
  return out;
}

/** Check mode: a CT an earlier task would create (or destroy) is there (or not). */
export function overlay(f: FirewallFacts, a: FirewallArgs, predicted: Predictions): FirewallFacts {
  if (a.kind !== 'guest' || !containerSlot.has(predicted, a.vmid!)) return f;
  const ct = containerSlot.get(predicted, a.vmid!);
  return { ...f, guest: ct ? (f.guest ?? { node: '(to be created)', type: 'lxc' }) : null, predicted: true };
}

// ---------------------------------------------------------------- plan

/** What pve-firewall would ignore a rule for that only the host can tell (verify_rule, generate_group_rules). */
function hostProblems(f: FirewallFacts, a: FirewallArgs): string[] {
  const own = fwNames(parseFwFile(f.text ?? '', a.kind));
  const cluster = a.kind === 'cluster' ? own : fwNames(parseFwFile(f.clusterText ?? '', 'cluster'));
  const out: string[] = [];
  (a.rules ?? []).forEach((r, i) => {
    const at = `rules[${i}]`;
    if (r.type === 'group' && !cluster.groups.has(r.action))
      out.push(
        `${at}: no security group '${r.action}' in ${CLUSTER_FW} ([group ${r.action}]): pve-firewall would jump to an empty chain (generate_group_rules: no such security group)`,
      );
    for (const k of ['source', 'dest'] as const) {
      const ref = aliasRef(r[k]);
      if (!ref) continue;
      const local = a.kind === 'guest' && ref.scope !== 'dc/' && own.aliases.has(ref.name);
      const global = ref.scope !== 'guest/' && cluster.aliases.has(ref.name);
      if (!local && !global)
        out.push(
          `${at}.${k}: no alias '${r[k]}' in [ALIASES] of ${a.kind === 'guest' ? `${a.path} or ` : ''}${CLUSTER_FW}: pve-firewall ignores a rule naming an unknown alias (verify_rule)`,
        );
    }
    if (r.proto !== undefined && f.protocols && !f.protocols.includes(r.proto))
      out.push(`${at}.proto: unknown protocol '${r.proto}' (not in the host's /etc/protocols)`);
    const icmp = r.proto === 'icmp' || r.proto === 'icmpv6' || r.proto === 'ipv6-icmp';
    for (const k of ['dport', 'sport'] as const) {
      const v = r[k];
      if (v === undefined || !f.services) continue;
      for (const name of serviceNames(v, k === 'dport' && icmp))
        if (!f.services.includes(name))
          out.push(`${at}.${k}: invalid port '${name}' (not in the host's /etc/services)`);
    }
  });
  return out;
}

function summary(options: Record<string, string | null>, rules: RulesChange): string {
  const parts: string[] = [];
  const set = Object.entries(options).filter(([, v]) => v !== null);
  const removed = Object.entries(options).filter(([, v]) => v === null);
  if (set.length) parts.push(`set ${set.map(([k, v]) => `${k}: ${v}`).join(', ')}`);
  if (removed.length) parts.push(`removed option ${removed.map(([k]) => k).join(', ')}`);
  const n = (k: number, what: string) => `${k} rule${k === 1 ? '' : 's'} ${what}`;
  if (rules.added.length) parts.push(n(rules.added.length, 'added'));
  if (rules.updated.length) parts.push(n(rules.updated.length, 'updated'));
  if (rules.removed.length) parts.push(n(rules.removed.length, 'removed'));
  return parts.join('; ');
}

/** sha1 of the file as read, or `absent`: the write goes ahead only if the host still has exactly that. */
export function fileStamp(text: string | null): string {
  return text === null ? 'absent' : createHash('sha1').update(text, 'utf8').digest('hex');
}

/** sh: refuse when the file is no longer what was read, else write it atomically (mkdir as save_vmfw_conf). */
export function writeScript(path: string, stamp: string, size: number): string {
  const [p, changed] = [
    shellQuote(path),
    shellQuote(`phx-play: ${path} changed since it was read (edited meanwhile?): nothing written; run the task again`),
  ];
  return [
    `if [ -e ${p} ]; then s=$(sha1sum < ${p}) || exit 1; s=\${s%% *}; else s=absent; fi`,
    `[ "$s" = ${shellQuote(stamp)} ] || { printf '%s\\n' ${changed} >&2; exit 1; }`,
    writeFileScript(path, { mode: pmxcfsMode(path, false), size, mkdirParent: true }),
  ].join('\n');
}

export function planFirewall(f: FirewallFacts, a: FirewallArgs): Plan {
  const where = a.kind === 'guest' ? `guest ${a.vmid}` : 'the cluster';
  if (!f.pve) return { changes: [], fail: `not a Proxmox VE host: /etc/pve/nodes does not exist` };
  if (a.kind === 'guest' && !f.guest)
    return {
      changes: [],
      fail: `no guest ${a.vmid} in the cluster (no /etc/pve/nodes/*/lxc/${a.vmid}.conf nor qemu-server/${a.vmid}.conf): create it before its firewall`,
    };
  const refusals = hostProblems(f, a);
  if (refusals.length) return { changes: [], fail: refusals.join('\n') };

  const before = f.text ?? '';
  const lines = parseFwFile(before, a.kind);
  const optionsChanged = editOptions(lines, a.kind, a.options);
  const none: RulesChange = { added: [], removed: [], updated: [] };
  const rules =
    a.rules === undefined
      ? none
      : a.mode === 'exact'
        ? editRulesExact(lines, a.rules)
        : editRulesPresent(lines, a.rules);
  const changed =
    Object.keys(optionsChanged).length > 0 || rules.added.length + rules.removed.length + rules.updated.length > 0;
  const after = changed ? renderFwFile(lines) : before;
  const result = {
    path: a.path,
    ...(a.vmid !== undefined ? { vmid: Number(a.vmid) } : {}),
    options: fwOptions(lines, a.kind),
    rules: fwRules(lines).map((r) => trimmed(r.line.text)),
    options_changed: optionsChanged,
    rules_added: rules.added,
    rules_removed: rules.removed,
    rules_updated: rules.updated,
  };
  const predicted = f.predicted ? ' (after the changes earlier tasks would make)' : '';
  if (!changed) return { changes: [], result, msg: `firewall of ${where} is as wanted${predicted}` };
  const content = Buffer.from(after, 'utf8');
  return {
    changes: [
      {
        description: `${f.text === null ? 'create' : 'update'} ${a.path}`,
        argv: ['sh', '-c', writeScript(a.path, fileStamp(f.text), content.length)],
        stdin: content,
      },
    ],
    result,
    msg: `firewall of ${where}: ${summary(optionsChanged, rules)}${predicted}`,
    diff: {
      before,
      after,
      before_header: f.text === null ? `${a.path} (absent)` : a.path,
      after_header: a.path,
    },
  };
}

// ---------------------------------------------------------------- module

export default defineModule<FirewallArgs, FirewallFacts>({
  name: 'pve_firewall',
  description: "A guest's or the cluster's firewall file: [OPTIONS] keys and [RULES], other sections kept as they are",
  args,
  facts,
  overlay,
  plan: (f, a) => planFirewall(f, a),
  verify: true,
  // /etc/pve/firewall is cluster-wide: members of one cluster take turns (src/shared-scope.ts), so the
  // second reads what the first wrote instead of failing the write guard
  sharedScope: async (ctx) => clusterScopeKey(await clusterMembership(ctx)),
});

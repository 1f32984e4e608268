// One rule line of a pve-firewall file (`IN ACCEPT -source 10.0.0.5 -p tcp -dport 9443 # comment`):
// pve-firewall's parse_fw_rule (proxmox/pve-firewall src/PVE/Firewall.pm) takes the comment from the
// FIRST `#` of the line, then reads `TYPE ACTION` and `-name value` pairs split on blanks. So a blank in
// a value starts another parameter (`-dport 22 -source 0.0.0.0/0`), a `#` ends the rule and turns the
// rest into its comment, and a line break starts another rule or a section of the value's choosing.
import { lineProblem } from './line.js';
import { ValueRefused } from './property-string.js';

/** Why `value` cannot be one value (one `\S+` word) of a rule line, or undefined when it can. */
export function fwWordProblem(value: string): string | undefined {
  if (value === '') return 'must not be empty';
  const lineWhy = lineProblem(value);
  if (lineWhy) return lineWhy;
  if (/\s/.test(value)) return 'must not contain blanks (a blank starts another parameter of the rule)';
  if (value.includes('#')) return 'must not contain "#" (it starts the rule\'s comment)';
  return undefined;
}

/** Why `text` cannot be a rule's `# comment`, or undefined when it can (it may hold blanks and `#`). */
export function fwCommentProblem(text: string): string | undefined {
  const lineWhy = lineProblem(text);
  if (lineWhy) return lineWhy;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x08\x0b-\x1f\x7f]/.test(text)) return 'must not contain control characters';
  return undefined;
}

/** A comment as parse_fw_rule keeps it: `#\s*(.*?)\s*$` trims ASCII blanks only (the file is read as bytes). */
export const trimComment = (text: string) => text.replace(/^[ \t\n\r\f\v]+|[ \t\n\r\f\v]+$/g, '');

/** A rule as pve-firewall keeps it (parse_fw_rule's hash): the keys are the file's and the API's. */
export interface FwRule {
  type: 'in' | 'out' | 'forward' | 'group';
  /** ACCEPT, DROP, REJECT, or the security group's name for type group */
  action: string;
  macro?: string;
  iface?: string;
  source?: string;
  dest?: string;
  proto?: string;
  dport?: string;
  sport?: string;
  log?: string;
  'icmp-type'?: string;
  comment?: string;
  enable: boolean;
}

/** The parameters after the action, in the order format_rules writes them, with their flag. */
export const RULE_PARAMS: ReadonlyArray<[keyof FwRule, string]> = [
  ['source', '-source'],
  ['dest', '-dest'],
  ['proto', '-p'],
  ['dport', '-dport'],
  ['sport', '-sport'],
  ['log', '-log'],
  ['icmp-type', '-icmp-type'],
];

function word(name: string, value: string): string {
  const why = fwWordProblem(value);
  if (why) throw new ValueRefused(`firewall rule ${name} ${JSON.stringify(value)} ${why}`);
  return value;
}

/**
 * The line pve-firewall's format_rules writes for `rule` (save_vmfw_conf / save_clusterfw_conf): `|` for a
 * disabled rule, the type in capitals, `MACRO(ACTION)` or the action, `-i iface`, then source, dest, proto,
 * dport, sport, log, icmp-type (a group rule has only `-i`), then ` # comment` unless blank. Every value is
 * checked again here: one that got past the schema still cannot add a parameter or a line.
 */
export function printFwRule(rule: FwRule): string {
  let line = rule.enable ? '' : '|';
  line += rule.type.toUpperCase();
  const action = word('action', rule.action);
  line += rule.macro !== undefined ? ` ${word('macro', rule.macro)}(${action})` : ` ${action}`;
  if (rule.iface !== undefined) line += ` -i ${word('iface', rule.iface)}`;
  if (rule.type !== 'group') {
    for (const [key, flag] of RULE_PARAMS) {
      const v = rule[key];
      if (typeof v === 'string') line += ` ${flag} ${word(key, v)}`;
    }
  }
  if (rule.comment !== undefined && trimComment(rule.comment) !== '') {
    const why = fwCommentProblem(rule.comment);
    if (why) throw new ValueRefused(`firewall rule comment ${JSON.stringify(rule.comment)} ${why}`);
    line += ` # ${trimComment(rule.comment)}`;
  }
  return line;
}

/** Why `value` cannot be an option's value in [OPTIONS] (`key: value`, one line), or undefined when it can. */
export function fwOptionValueProblem(value: string): string | undefined {
  return fwWordProblem(value);
}

/** `key: value` for [OPTIONS] (format_options), the value checked again. */
export function printFwOption(key: string, value: string): string {
  if (!/^[a-z_]+$/.test(key)) throw new ValueRefused(`firewall option name ${JSON.stringify(key)} is not an option`);
  const why = fwOptionValueProblem(value);
  if (why) throw new ValueRefused(`firewall option ${key}: ${JSON.stringify(value)} ${why}`);
  return `${key}: ${value}`;
}

// The encoders' refusals as zod checks, so that a literal value is refused when
// the playbook is validated (exit 1, nothing ran) and a templated one when the
// task's rendered arguments are checked (the task fails before any command).
import * as z from 'zod';
import { lineProblem, operandProblem } from './line.js';
import { keyOptionsProblem } from './key-options.js';
import { listElementProblem } from './comma-list.js';
import { mountOptionNameProblem, mountOptionValueProblem } from './mount-options.js';
import { fwCommentProblem, fwWordProblem } from './fw-rule.js';
import { propertyKeyProblem, propertyStringProblem, propertyValueProblem } from './property-string.js';

type Problem = (value: string) => string | undefined;

function refusing(problem: Problem): z.ZodString {
  // superRefine keeps the ZodString type: .min()/.regex()/.optional() still chain
  return z.string().check((c) => {
    const why = problem(c.value);
    if (why) c.issues.push({ code: 'custom', message: why, input: c.value });
  });
}

/** A string written inside one line of a config file. */
export const oneLine = (): z.ZodString => refusing(lineProblem);
/** A string passed to a CLI as an operand or an option's value. */
export const operand = (): z.ZodString => refusing(operandProblem);
/** One value of a Proxmox property string (`bridge`, `ip`, `mp`, …). */
export const propertyValue = (): z.ZodString => refusing(propertyValueProblem);
/** One value of a mount option string. */
export const mountOptionValue = (): z.ZodString => refusing(mountOptionValueProblem);
/** A whole property string as the user wrote it (`name=eth0,bridge=vmbr0`): one line, no key twice. */
export const propertyString = (defaultKey?: string): z.ZodString =>
  refusing((v) => propertyStringProblem(v, defaultKey));
/** Text that may hold line breaks (a description PVE encodes) but no NUL, which no argv can carry. */
export const noNul = (): z.ZodString =>
  refusing((v) => (v.includes('\0') ? 'must not contain a NUL character' : undefined));

/** A property string as a mapping (`{name: eth0, bridge: vmbr0}`): keys and values checked for printPropertyString. */
export const propertyRecord = () =>
  z.record(refusing(propertyKeyProblem), z.union([propertyValue(), z.number(), z.boolean()]));
/** The options of an authorized_keys line (`no-pty,from="10.0.0.1"`). */
export const keyOptions = (): z.ZodString => refusing(keyOptionsProblem);
/** One element of a comma list (`content`, `nodes`). */
export const listElement = (): z.ZodString => refusing(listElementProblem);
/** Mount options as a mapping (`{addr: 10.0.0.5, rw: true}`), printed by printMountOptions. */
export const mountOptionRecord = () =>
  z.record(refusing(mountOptionNameProblem), z.union([mountOptionValue(), z.number(), z.boolean()]));
/** One value of a pve-firewall rule line (`-source`, `-dport`, an action): no blank, no `#`, one line. */
export const fwWord = (): z.ZodString => refusing(fwWordProblem);
/** A pve-firewall rule's `# comment`: one line, no control characters (blanks and `#` are fine). */
export const fwComment = (): z.ZodString => refusing(fwCommentProblem);

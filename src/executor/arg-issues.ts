// A task's rendered arguments failed the module's schema: the problems as text.
// A value checked against alternatives (a string or a mapping, a string or a
// number) fails as "Invalid input" in zod; the alternative of the value's own
// type says why, so that branch is reported (as the playbook validator does).
import type { z } from 'zod';

type Issue = z.core.$ZodIssue;

/** The issues, with union failures replaced by the issues of the branch the value's type chose. */
function flatten(issues: readonly Issue[], prefix: PropertyKey[]): { path: PropertyKey[]; message: string }[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code !== 'invalid_union' || !('errors' in issue) || issue.errors.length === 0)
      return [{ path, message: wording(issue) }];
    const typeFits = issue.errors.filter((b) => !b.every((i) => i.code === 'invalid_type' && i.path.length === 0));
    return typeFits.length === 1 ? flatten(typeFits[0], path) : [{ path, message: issue.message }];
  });
}

/** `mounts.0.options.shared: must not contain commas (…); tags: must be one line …` */
export function argIssuesText(issues: readonly Issue[]): string {
  return flatten(issues, [])
    .map((i) => `${i.path.length ? i.path.join('.') + ': ' : ''}${i.message}`)
    .join('; ');
}

/** The loader's wording where it has one (playbook/module-args.ts explain): an empty string "must not be empty". */
function wording(issue: Issue): string {
  if (issue.code === 'too_small' && issue.origin === 'string' && Number(issue.minimum) === 1)
    return 'must not be empty';
  return issue.message;
}

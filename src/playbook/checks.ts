// Syntax checks of the strings rendered or evaluated at run time: templates
// everywhere, bare expressions in conditions. Found now, with their position,
// so a typo in task 40 stops the run before task 1.
import type { SourceLoc } from '../errors.js';
import { checkExpressionSyntax } from '../expr/index.js';
import { checkTemplateSyntax, hasTemplate } from '../template/index.js';
import { locate, locateValue } from '../yaml-source.js';
import type { Problems } from './problems.js';

/** Does this string need the template engine? (`{{ }}`, `{% %}`, `{# #}`) */
export function looksTemplated(text: string): boolean {
  return hasTemplate(text);
}

/** Checks the template syntax of a string at `loc` (the YAML value's position). */
export function checkTemplate(text: string, loc: SourceLoc | undefined, problems: Problems): void {
  if (!looksTemplated(text)) return;
  problems.attempt(loc, () => checkTemplateSyntax(text, loc));
}

/** Checks every string inside a YAML value (deep), each at its own position. */
export function checkTemplatesDeep(value: unknown, loc: SourceLoc | undefined, problems: Problems): void {
  if (typeof value === 'string') checkTemplate(value, loc, problems);
  else if (Array.isArray(value))
    value.forEach((item, i) => checkTemplatesDeep(item, locate(value, i) ?? loc, problems));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      checkTemplate(k, locate(value, k) ?? loc, problems);
      checkTemplatesDeep(v, locateValue(value, k) ?? loc, problems);
    }
  }
}

/** `when`-style value: each string is a bare expression (a list: each item). */
export function checkCondition(value: unknown, loc: SourceLoc | undefined, problems: Problems): void {
  if (typeof value === 'string') problems.attempt(loc, () => checkExpressionSyntax(value, loc));
  else if (Array.isArray(value)) value.forEach((item, i) => checkCondition(item, locate(value, i) ?? loc, problems));
}

// Ansible's `comment` filter (lib/ansible/plugins/filter/core.py, comment()):
// `{{ ansible_managed | comment }}` is "#\n# Ansible managed\n#". A style
// ('plain', 'erlang', 'c', 'cblock', 'xml') gives the decoration and the
// beginning/end lines; keyword arguments override each part.
import { EvalFailure, pyStr, toInt } from '../template/values.js';

interface Style {
  decoration: string;
  beginning?: string;
  end?: string;
}

const STYLES: Record<string, Style> = {
  plain: { decoration: '# ' },
  erlang: { decoration: '% ' },
  c: { decoration: '// ' },
  cblock: { beginning: '/*', decoration: ' * ', end: ' */' },
  xml: { beginning: '<!--', decoration: ' - ', end: '-->' },
};

const KEYS = ['newline', 'beginning', 'prefix', 'prefix_count', 'decoration', 'postfix', 'postfix_count', 'end'];

export function commentFilter(text: string, style: string, kwargs: Record<string, unknown>): string {
  const s = Object.hasOwn(STYLES, style) ? STYLES[style] : undefined;
  if (!s) throw new EvalFailure(`comment: unknown style '${style}' (known: ${Object.keys(STYLES).join(', ')})`);
  for (const k of Object.keys(kwargs))
    if (!KEYS.includes(k) && k !== 'style') throw new EvalFailure(`comment: unknown argument '${k}'`);
  const given = (k: string) => (Object.hasOwn(kwargs, k) ? kwargs[k] : undefined);
  const prepostfix = pyStr(given('decoration') ?? s.decoration).trimEnd();
  const p = {
    newline: '\n',
    beginning: '',
    prefix: prepostfix,
    prefix_count: 1 as unknown,
    postfix: prepostfix,
    postfix_count: 1 as unknown,
    end: '',
    ...s,
    ...Object.fromEntries(KEYS.filter((k) => given(k) !== undefined).map((k) => [k, given(k)])),
  };
  const nl = pyStr(p.newline);
  const decoration = pyStr(p.decoration);
  const beginning = p.beginning ? `${pyStr(p.beginning)}${nl}` : '';
  const prefix = pyStr(p.prefix);
  const prefixText = prefix ? (prefix !== nl ? `${prefix}${nl}` : nl).repeat(Math.max(0, toInt(p.prefix_count))) : '';
  const body = `${decoration}${text.split(nl).join(`${nl}${decoration}`)}`
    .split(`${decoration}${nl}`)
    .join(`${decoration.trimEnd()}${nl}`);
  const postfixText = Array.from(
    { length: Math.max(0, toInt(p.postfix_count)) },
    () => `${nl}${pyStr(p.postfix)}`,
  ).join('');
  const end = p.end ? `${nl}${pyStr(p.end)}` : '';
  return `${beginning}${prefixText}${body}${postfixText}${end}`;
}

// The options field of an OpenSSH authorized_keys line (`no-pty,from="10.0.0.1" ssh-ed25519 …`).
// sshd reads options up to the first blank outside double quotes (auth-options.c), so
// a blank there would let the value choose the key that follows, and a line break
// would add a line of its choosing: both are refused.

/**
 * Why `key_options` cannot go before a key, or undefined. sshd reads options up to
 * the first blank outside double quotes (auth-options.c); a blank there, an
 * unclosed quote or a line break would let the value choose the key itself or
 * add a line.
 */
export function keyOptionsProblem(v: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(v)) return 'key_options is one line: no line breaks, tabs or control characters';
  let quoted = false;
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    if (quoted && c === '\\' && v[i + 1] === '"') i++;
    else if (c === '"') quoted = !quoted;
    else if (c === ' ' && !quoted)
      return 'a blank outside double quotes in key_options would end the options (and start the key) there';
  }
  return quoted ? 'key_options has an unclosed double quote' : undefined;
}

// Which human reporter a stream gets: the live view redraws lines in place, so it
// needs a terminal that knows its width; anything else gets plain lines.

export interface TerminalTraits {
  isTTY?: boolean;
  /** 0 on a pty that was never given a size (`script`, some CI runners) */
  columns?: number;
}

export function wantsLiveView(stream: TerminalTraits, env: NodeJS.ProcessEnv): boolean {
  // never in CI logs; never on a terminal without a width (the live view cannot wrap or redraw there)
  return stream.isTTY === true && !env.CI && (stream.columns ?? 0) > 0;
}

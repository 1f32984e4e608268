// A VM's `agent` config value (a property string whose default key is
// `enabled`): qemu-server's PVE/QemuServer/Agent.pm, $agent_fmt and
// parse_guest_agent. QEMU gets the guest agent's socket only when it is
// enabled (PVE/QemuServer.pm, config_to_command), so `agent: 0` means qm's
// guest-ping fails: "QEMU guest agent is not running", the same words as an
// agent that has not started yet.

/** JSONSchema's boolean words (PVE/JSONSchema.pm, parse_boolean). */
function pveBoolean(v: string): boolean | undefined {
  if (/^(1|on|yes|true)$/i.test(v)) return true;
  if (/^(0|off|no|false)$/i.test(v)) return false;
  return undefined;
}

/**
 * Whether the agent is enabled: undefined when the key is absent ("No QEMU
 * guest agent configured"), false for `0`, `enabled=0`, a value without
 * `enabled` (its default is 0) or one that does not parse (PVE warns and
 * treats it as disabled).
 */
export function agentEnabled(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  let enabled = false;
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    const [key, v] = eq < 0 ? ['enabled', part] : [part.slice(0, eq), part.slice(eq + 1)];
    if (key !== 'enabled') continue;
    const b = pveBoolean(v.trim());
    if (b === undefined) return false;
    enabled = b;
  }
  return enabled;
}

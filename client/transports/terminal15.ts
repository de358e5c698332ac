import type { Terminal15MessageMessage } from '../../protocol';

/** Terminal 15 (ignition): 'on', 'off', or 'unknown' when openOBD cannot tell (STATE_UNDEFINED). */
export type Terminal15State = 'on' | 'off' | 'unknown';

export function terminal15State(m: Terminal15MessageMessage): Terminal15State {
  if (m.state === 'STATE_ON' || m.state === 1) return 'on';
  if (m.state === 'STATE_OFF' || m.state === 2) return 'off';
  return 'unknown';
}

import type { NodeStatus } from 'node-red';
import type { AccountStatus } from './account-runtime';
import { shortText } from './flow';
import type { SessionEvent } from './registry';

/*
 * Status conventions of the core nodes: yellow ring while connecting or waiting, green dot when good,
 * blue dot while a call is in flight, red ring with a short reason on failure, grey when idle or ended.
 *
 * A fixed status text is sent as its catalog key (as core sends `node-red:common.status.connected`): the
 * editor translates it into the browser's language. A text with values in it (a session id, hex) is
 * translated here, in the runtime's language, because the editor cannot fill in values.
 */

export type Translate = (key: string, substitutions?: Record<string, unknown>) => string;

export function accountStatus(s: AccountStatus, t: Translate): NodeStatus {
  switch (s.state) {
    case 'starting':
    case 'idle':
      return { fill: 'yellow', shape: 'ring', text: 'openobd.status.connecting' };
    case 'ready':
      return { fill: 'green', shape: 'dot', text: 'openobd.status.ready' };
    case 'unavailable':
      return { fill: 'red', shape: 'ring', text: 'openobd.status.unavailable' };
    case 'rejected':
      return { fill: 'red', shape: 'ring', text: 'openobd.status.rejected' };
    case 'error':
      return s.code ? errorStatus(s.code, t, s.situation) : { fill: 'red', shape: 'ring', text: 'openobd.status.error' };
    case 'closed':
      return {};
  }
}

/** What a node shows about the session it last worked with. */
export function sessionStatus(e: SessionEvent, t: Translate): NodeStatus {
  const id = e.id.slice(0, 8);
  if (e.health === 'recovering') return { fill: 'yellow', shape: 'ring', text: t('openobd.status.recovering', { id }) };
  if (e.health === 'ended') {
    if (e.cause === 'idle') return { fill: 'grey', shape: 'ring', text: t('openobd.status.idleEnded', { id }) };
    if (e.cause === 'maxDuration') return { fill: 'grey', shape: 'ring', text: t('openobd.status.maxDurationEnded', { id }) };
    if (e.state === 'lost') return { fill: 'red', shape: 'ring', text: t('openobd.status.lost', { id }) };
    if (e.state === 'finished') return { fill: 'grey', shape: 'dot', text: t('openobd.status.finished', { id }) };
    return { fill: 'grey', shape: 'ring', text: t('openobd.status.ended', { id, state: e.state }) };
  }
  return { fill: 'green', shape: 'dot', text: t('openobd.status.active', { id }) };
}

/**
 * The short reason for an error, as a catalog key: the situation in the user's words where there is one
 * ("ticket busy" rather than UNAVAILABLE), else the code's; a code the catalog does not know as it is.
 */
export function errorStatus(code: string, t: Translate, situation?: string): NodeStatus {
  for (const key of [situation ? `openobd.status.situations.${situation}` : undefined, `openobd.status.errors.${code}`]) {
    if (!key) continue;
    const known = t(key);
    if (known && known !== key) return { fill: 'red', shape: 'ring', text: key };
  }
  return { fill: 'red', shape: 'ring', text: shortText(code) };
}

export function busyStatus(text: string): NodeStatus {
  return { fill: 'blue', shape: 'dot', text: shortText(text) };
}

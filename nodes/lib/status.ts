import type { NodeStatus } from 'node-red';
import type { AccountStatus } from './account-runtime';
import { shortText } from './flow';
import type { SessionEvent } from './registry';

/*
 * Status conventions of the core nodes: yellow ring while connecting or waiting, green dot when good,
 * blue dot while a call is in flight, red ring with a short reason on failure, grey when idle or ended.
 */

export type Translate = (key: string, substitutions?: Record<string, unknown>) => string;

export function accountStatus(s: AccountStatus, t: Translate): NodeStatus {
  switch (s.state) {
    case 'starting':
    case 'idle':
      return { fill: 'yellow', shape: 'ring', text: t('openobd.status.connecting') };
    case 'ready':
      return { fill: 'green', shape: 'dot', text: t('openobd.status.ready') };
    case 'unavailable':
      return { fill: 'red', shape: 'ring', text: t('openobd.status.unavailable') };
    case 'rejected':
      return { fill: 'red', shape: 'ring', text: t('openobd.status.rejected') };
    case 'error':
      return s.code ? errorStatus(s.code, t) : { fill: 'red', shape: 'ring', text: t('openobd.status.error') };
    case 'closed':
      return {};
  }
}

/** What a node shows about the session it last worked with. */
export function sessionStatus(e: SessionEvent, t: Translate): NodeStatus {
  const id = e.id.slice(0, 8);
  if (e.health === 'recovering') return { fill: 'yellow', shape: 'ring', text: t('openobd.status.recovering', { id }) };
  if (e.health === 'ended') {
    if (e.state === 'lost') return { fill: 'red', shape: 'ring', text: t('openobd.status.lost', { id }) };
    if (e.state === 'finished') return { fill: 'grey', shape: 'dot', text: t('openobd.status.finished', { id }) };
    return { fill: 'grey', shape: 'ring', text: t('openobd.status.ended', { id, state: e.state }) };
  }
  return { fill: 'green', shape: 'dot', text: t('openobd.status.active', { id }) };
}

export function errorStatus(code: string, t: Translate): NodeStatus {
  const key = `openobd.status.errors.${code}`;
  const text = t(key);
  return { fill: 'red', shape: 'ring', text: text === key || !text ? shortText(code) : text };
}

export function busyStatus(text: string): NodeStatus {
  return { fill: 'blue', shape: 'dot', text: shortText(text) };
}

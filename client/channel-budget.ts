import { OpenObdError } from './errors';

/** Channels the J-ReX serves at the same time, whatever their bus (openOBD documentation, "Limitations"). */
export const MAX_CHANNELS = 32;

/** A session's stream that holds channels: ISO-TP, K-Line, TP 2.0, DoIP or raw CAN frames. */
export interface ChannelHolder {
  readonly channelCount: number;
  /** Channels a request or listener is using now (they cannot give up their place). */
  readonly busyChannelCount: number;
  /** Forgets the oldest channel no request or listener is using; false when every channel is in use. */
  retireIdleChannel(): boolean;
}

/**
 * The 32 channels of one session, shared by all its streams: the J-ReX counts channels, not streams, so
 * 20 ISO-TP channels and 12 K-Line channels fill it as 32 ISO-TP channels do. A new channel takes a free
 * place, or the place of an idle channel (its own stream's first, then any other), or fails at once
 * with CHANNEL_LIMIT rather than pushing out a channel a request is waiting on.
 */
export class ChannelBudget {
  readonly #holders = new Set<ChannelHolder>();

  constructor(readonly limit = MAX_CHANNELS) {}

  join(holder: ChannelHolder): void {
    this.#holders.add(holder);
  }

  get inUse(): number {
    let n = 0;
    for (const h of this.#holders) n += h.channelCount;
    return n;
  }

  /** Channels in use by a request or listener now: the places nobody else can take. */
  get busy(): number {
    let n = 0;
    for (const h of this.#holders) n += h.busyChannelCount;
    return n;
  }

  /** Makes room for one more channel of `asking`; throws CHANNEL_LIMIT naming `wanted` when there is none. */
  makeRoom(asking: ChannelHolder, wanted: string, operation: string): void {
    if (this.inUse < this.limit) return;
    if (asking.retireIdleChannel()) return;
    for (const h of this.#holders) if (h !== asking && h.retireIdleChannel()) return;
    throw new OpenObdError(
      'CHANNEL_LIMIT',
      `Wait for a running request to finish: a session can use at most ${this.limit} channels at a time on all its buses together (the J-ReX limit), and all ${this.limit} are waiting for answers; this request would open another one (${wanted})`,
      { operation },
    );
  }
}

/** Channels of one stream with at least one request or listener waiting on them. */
export function busyChannels(channels: Map<string, unknown>, listeners: Map<string, readonly unknown[]>): number {
  let n = 0;
  for (const key of channels.keys()) if ((listeners.get(key)?.length ?? 0) > 0) n += 1;
  return n;
}

/**
 * Forgets the oldest channel of one stream that nothing is waiting on (it is announced again if used
 * later); false when every channel is in use.
 */
export function retireIdle(channels: Map<string, unknown>, listeners: Map<string, readonly unknown[]>): boolean {
  for (const key of channels.keys()) {
    if ((listeners.get(key)?.length ?? 0) > 0) continue;
    channels.delete(key);
    listeners.delete(key);
    return true;
  }
  return false;
}

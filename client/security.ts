/**
 * SecurityAccess (ISO 14229-1 0x27) with a pluggable seed-to-key step: the manufacturer's algorithm is
 * the caller's, passed as a function (in Node-RED flows it is a function node between two requests).
 */
import { OpenObdError } from './errors';
import { nrcName } from './codec';
import type { RequestSender } from './download';
import type { UdsTiming } from './uds-request';
import type { EcuSpec } from './vehicle-spec';
import { hexByte, toHex } from '../protocol';

export type SeedToKey = (seed: Buffer, level: number) => Uint8Array | Promise<Uint8Array>;

export interface UnlockOptions {
  /** The odd requestSeed sub-function (default 1); the key goes with level + 1. */
  level?: number;
  computeKey: SeedToKey;
  timing?: Partial<UdsTiming>;
  signal?: AbortSignal;
}

export interface UnlockResult {
  level: number;
  seedHex: string;
  /** The ECU sent an all-zero seed: it was unlocked already, no key was sent. */
  alreadyUnlocked: boolean;
}

export async function unlockSecurity(session: RequestSender, ecu: EcuSpec, options: UnlockOptions): Promise<UnlockResult> {
  const level = options.level ?? 1;
  if (!Number.isInteger(level) || level < 1 || level > 0x7d || level % 2 === 0)
    throw new OpenObdError('BAD_CONFIG', `A security level is an odd requestSeed value from 01 to 7D, got ${String(level)}`);
  const answer = async (payload: Buffer, step: string): Promise<Buffer> => {
    const r = (await session.request(ecu, payload, options.timing, options.signal)).responses[0];
    if (!r) throw new OpenObdError('TIMEOUT', `No answer to ${step}`, { operation: 'uds.securityAccess' });
    if (!r.positive) {
      const nrc = r.nrc ?? 0;
      throw new OpenObdError('NEGATIVE_RESPONSE', `The ECU refused ${step}: NRC ${hexByte(nrc)} ${nrcName(nrc)}`, {
        operation: 'uds.securityAccess',
        nrc,
        nrcName: nrcName(nrc),
      });
    }
    return r.payload;
  };
  const seed = (await answer(Buffer.of(0x27, level), `the seed request (27 ${hexByte(level)})`)).subarray(2);
  if (seed.length > 0 && seed.every((b) => b === 0)) return { level, seedHex: toHex(seed), alreadyUnlocked: true };
  const key = Buffer.from(await options.computeKey(Buffer.from(seed), level));
  await answer(Buffer.concat([Buffer.of(0x27, level + 1), key]), `the key (27 ${hexByte(level + 1)})`);
  return { level, seedHex: toHex(seed), alreadyUnlocked: false };
}

/** Live values as pure functions of time, so that a given clock value always gives the same bytes. */
import { uintBytes } from './bytes';
import type { SignalDefinition } from './types';

/** What a signal may depend on besides its own definition. */
export interface LiveConditions {
  /** ms since the engine started (0 while it is off). */
  engineRunTimeMs: number;
  engineRunning: boolean;
  batteryVoltage: number;
}

/** value(t) = warm-up(value) + perSecond·t + wobble·sin(2πt/period), t = time since engine start. */
export function signalValue(signal: SignalDefinition, live: LiveConditions): number {
  if (!live.engineRunning && signal.whenEngineOff !== undefined) return signal.whenEngineOff;
  const t = live.engineRunTimeMs;
  const target = signal.value === 'batteryVoltage' ? live.batteryVoltage : signal.value;
  let value = target;
  if (signal.warmUp) {
    value = target - (target - signal.warmUp.from) * Math.exp(-t / signal.warmUp.timeConstantMs);
  }
  if (signal.perSecond) value += (signal.perSecond * t) / 1000;
  if (signal.wobble) value += signal.wobble.amplitude * Math.sin((2 * Math.PI * t) / signal.wobble.periodMs);
  return value;
}

/** raw = round((value − offset) / scale), clamped to what `size` unsigned bytes can hold. */
export function encodeScaled(value: number, size: number, scale: number, offset: number): Buffer {
  const max = 2 ** (8 * size) - 1;
  const raw = Math.min(max, Math.max(0, Math.round((value - offset) / scale)));
  return uintBytes(raw, size);
}

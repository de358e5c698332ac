/** Request load on one session: loops of tester-present and read-VIN requests, each answer checked. */
import type { FlowHarness } from './harness';
import { describeOutcome } from './flow';
import { delay } from './wait';

/** The answers of the default vehicle's engine. */
const VALID: Record<string, string> = {
  '3E00': '7E00',
  '22F190': '62F190' + Buffer.from('WVWZZZAU6KW204711').toString('hex').toUpperCase(),
};

/** Runs request loops against one session until `stop()`; counts and keeps the first failures. */
export function requestLoad(h: FlowHarness, sessionId: () => string, concurrency: number, pauseMs = 5) {
  let running = true;
  const stats = { sent: 0, ok: 0, failed: 0, failures: [] as Array<{ t: number; text: string }> };
  const loop = async (k: number) => {
    let i = k;
    while (running) {
      const payload = i++ % 2 === 0 ? '3E00' : '22F190';
      const o = await h.request(sessionId(), payload, 'req', 20000);
      stats.sent += 1;
      if (o.ok && o.msg?.payload === VALID[payload]) stats.ok += 1;
      else {
        stats.failed += 1;
        if (stats.failures.length < 20)
          stats.failures.push({ t: Date.now(), text: o.ok ? `wrong answer ${String(o.msg?.payload)}` : describeOutcome(o) });
      }
      if (pauseMs > 0) await delay(pauseMs);
    }
  };
  const loops = Array.from({ length: concurrency }, (_, k) => loop(k));
  return {
    stats,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

export type RequestLoad = ReturnType<typeof requestLoad>;

/*
 * The openOBD simulator as a benchmark child process: started by bench/common.ts SimChild over a fork
 * IPC channel, so the Node-RED process under measurement carries none of the server's memory or CPU.
 * argv[2] is a JSON SimChildOptions. Answers { type: 'stats' } with its own CPU, memory and counts.
 */
import { OpenObdSimulator } from '../simulator';
import { INSTANT_VEHICLE, type SimChildOptions, type SimProcessStats } from './common';

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as SimChildOptions;
  const sim = new OpenObdSimulator({
    host: '127.0.0.1',
    port: 0,
    vehicles: options.vehicles,
    vehicle: options.instant === false ? undefined : INSTANT_VEHICLE,
    tokenIntervalMs: options.tokenIntervalMs,
    tokenValidityMs: options.tokenValidityMs,
    maxConcurrentStreams: options.maxConcurrentStreams,
    network: options.network,
    advertisedHost: options.advertisedHost,
    tls: options.tls,
    // Sessions of the benchmark are claimed at once; a long queue of 1,000 must not fail them.
    authenticationTimeoutMs: 600_000,
  });
  await sim.start();
  const send = (m: unknown) => process.send?.(m);
  process.on('message', (m: { type: string; downtimeMs?: number }) => {
    if (m.type === 'restart') {
      void sim.restart(m.downtimeMs ?? 0).then(() => send({ type: 'restarted' }));
      return;
    }
    if (m.type === 'stats') {
      const u = process.cpuUsage();
      const mem = process.memoryUsage();
      const s = sim.stats();
      const stats: SimProcessStats = {
        cpuMs: (u.user + u.system) / 1000,
        rssBytes: mem.rss,
        heapUsedBytes: mem.heapUsed,
        sessions: s.sessions,
        openStreams: s.openStreams,
        streams: s.streams,
        tokens: s.tokens,
      };
      send({ type: 'stats', stats });
    } else if (m.type === 'stop') {
      void sim.stop().then(() => process.exit(0));
    }
  });
  process.on('disconnect', () => {
    void sim.stop().then(() => process.exit(0));
  });
  send({ type: 'ready', port: sim.port });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench sim-child: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

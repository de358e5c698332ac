#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { OpenObdSimulator, DEFAULT_SIMULATOR_CREDENTIALS } from './simulator';

/**
 * `openobd-simulator`: runs the simulator on its own and prints what a client needs to connect.
 * Stops cleanly on Ctrl-C / SIGTERM.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '50051' },
      vehicles: { type: 'string', default: '3' },
      'token-interval': { type: 'string' },
      'token-validity': { type: 'string' },
      'max-streams': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      [
        'Usage: openobd-simulator [--host 127.0.0.1] [--port 50051] [--vehicles 3]',
        '                         [--token-interval ms] [--token-validity ms] [--max-streams n] [--json]',
        '',
        'Runs an openOBD-compatible gRPC server with simulated cars on loopback (plaintext).',
        '--host 0.0.0.0 exposes it to the network: clients then need their "allow insecure" switch.',
        '--max-streams caps concurrent streams per HTTP/2 connection, as gRPC front ends do (often 100).',
        '',
      ].join('\n'),
    );
    return;
  }
  const sim = new OpenObdSimulator({
    host: values.host,
    port: Number(values.port),
    vehicles: Number(values.vehicles),
    tokenIntervalMs: values['token-interval'] ? Number(values['token-interval']) : undefined,
    tokenValidityMs: values['token-validity'] ? Number(values['token-validity']) : undefined,
    maxConcurrentStreams: values['max-streams'] ? Number(values['max-streams']) : undefined,
  });
  const endpoint = await sim.start();
  const creds = DEFAULT_SIMULATOR_CREDENTIALS;
  const info = {
    endpoint,
    tls: false,
    clientId: creds.clientId,
    clientSecret: creds.clientSecret,
    clusterId: creds.clusterId,
    tickets: sim.ticketIds(),
    connectors: sim.connectorIds(),
  };
  if (values.json) {
    process.stdout.write(JSON.stringify(info) + '\n');
  } else {
    process.stdout.write(
      [
        `openOBD simulator listening on ${endpoint} (plaintext)`,
        `  OPENOBD_GRPC_HOST=${endpoint}`,
        `  OPENOBD_PARTNER_CLIENT_ID=${creds.clientId}`,
        `  OPENOBD_PARTNER_CLIENT_SECRET=${creds.clientSecret}   (simulator only; never a real secret)`,
        `  OPENOBD_CLUSTER_ID=${creds.clusterId}`,
        `  tickets:    ${info.tickets.join(', ')}`,
        `  connectors: ${info.connectors.join(', ')}`,
        'Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
  }
  const shutdown = () => {
    void sim.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`openobd-simulator: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

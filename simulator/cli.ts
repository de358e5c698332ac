#!/usr/bin/env node
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { OpenObdSimulator, DEFAULT_SIMULATOR_CREDENTIALS } from './simulator';
import { selfSignedCertificate } from './tls';

/**
 * `openobd-simulator`: runs the simulator on its own and prints what a client needs to connect.
 * Stops cleanly on Ctrl-C / SIGTERM.
 */

interface Tls {
  cert: string;
  key: string;
  /** The certificate file a client trusts. */
  certFile: string;
  /** A folder made for this run only, removed at the end. */
  temporary?: string;
}

/** The certificate and key: the given files, or a self-signed pair kept in `dir` (reused) or a temporary folder. */
function serverTls(values: { tls?: boolean; 'tls-cert'?: string; 'tls-key'?: string; 'tls-dir'?: string }, host: string): Tls | undefined {
  const certFile = values['tls-cert'];
  const keyFile = values['tls-key'];
  if (Boolean(certFile) !== Boolean(keyFile)) throw new Error('--tls-cert and --tls-key go together');
  if (certFile && keyFile) {
    return { cert: fs.readFileSync(certFile, 'utf8'), key: fs.readFileSync(keyFile, 'utf8'), certFile: path.resolve(certFile) };
  }
  if (!values.tls && !values['tls-dir']) return undefined;
  const dir = values['tls-dir'] ? path.resolve(values['tls-dir']) : fs.mkdtempSync(path.join(os.tmpdir(), 'openobd-simulator-tls-'));
  const files = { cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem') };
  // A kept folder keeps its certificate, so a client that trusts it still does after a restart.
  if (values['tls-dir'] && fs.existsSync(files.cert) && fs.existsSync(files.key)) {
    return { cert: fs.readFileSync(files.cert, 'utf8'), key: fs.readFileSync(files.key, 'utf8'), certFile: files.cert };
  }
  const names = ['localhost', '127.0.0.1', '::1'];
  if (!['0.0.0.0', '::', ...names].includes(host)) names.push(host);
  // Listening on every interface: clients elsewhere dial this machine by its name.
  if (host === '0.0.0.0' || host === '::') names.push(os.hostname());
  const pair = selfSignedCertificate(names);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(files.key, pair.key, { mode: 0o600 });
  fs.writeFileSync(files.cert, pair.cert);
  return { ...pair, certFile: files.cert, temporary: values['tls-dir'] ? undefined : dir };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '50051' },
      vehicles: { type: 'string', default: '3' },
      'token-interval': { type: 'string' },
      'token-validity': { type: 'string' },
      'max-streams': { type: 'string' },
      tls: { type: 'boolean', default: false },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-dir': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      [
        'Usage: openobd-simulator [--host 127.0.0.1] [--port 50051] [--vehicles 3]',
        '                         [--token-interval ms] [--token-validity ms] [--max-streams n]',
        '                         [--tls [--tls-dir dir] | --tls-cert file --tls-key file] [--json]',
        '',
        'Runs an openOBD-compatible gRPC server with simulated cars on loopback, in plaintext unless',
        '--tls is given: it then makes a self-signed certificate for localhost, 127.0.0.1 and ::1 and',
        'prints its path, for the client to trust (--tls-dir keeps it there and reuses it next time);',
        '--tls-cert and --tls-key serve your own certificate instead.',
        '--host 0.0.0.0 exposes it to the network: use TLS, or clients need their "allow insecure" switch.',
        '--max-streams caps concurrent streams per HTTP/2 connection, as gRPC front ends do (often 100).',
        '',
      ].join('\n'),
    );
    return;
  }
  const tls = serverTls(values, values.host);
  const sim = new OpenObdSimulator({
    host: values.host,
    port: Number(values.port),
    vehicles: Number(values.vehicles),
    tokenIntervalMs: values['token-interval'] ? Number(values['token-interval']) : undefined,
    tokenValidityMs: values['token-validity'] ? Number(values['token-validity']) : undefined,
    maxConcurrentStreams: values['max-streams'] ? Number(values['max-streams']) : undefined,
    tls: tls && { cert: tls.cert, key: tls.key },
  });
  const removeTemporary = () => {
    if (tls?.temporary) fs.rmSync(tls.temporary, { recursive: true, force: true });
  };
  let endpoint: string;
  try {
    endpoint = await sim.start();
  } catch (err) {
    removeTemporary();
    throw err;
  }
  const creds = DEFAULT_SIMULATOR_CREDENTIALS;
  const port = sim.port as number;
  const host = endpoint.slice(0, endpoint.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1');
  const info = {
    endpoint,
    host,
    port,
    tls: Boolean(tls),
    certFile: tls?.certFile,
    clientId: creds.clientId,
    clientSecret: creds.clientSecret,
    clusterId: creds.clusterId,
    tickets: sim.ticketIds(),
    connectors: sim.connectorIds(),
  };
  if (values.json) {
    process.stdout.write(JSON.stringify(info) + '\n');
  } else {
    // openOBD's own variables. openOBD's Python client dials TLS to OPENOBD_GRPC_HOST as a gRPC target
    // (host:port) unless it is given OPENOBD_GRPC_PORT other than 443, then plaintext to host:port: so
    // plaintext gets the two apart, TLS the target alone, with gRPC's variable for the roots it trusts.
    process.stdout.write(
      [
        `openOBD simulator listening on ${endpoint} (${tls ? 'TLS' : 'plaintext'})`,
        ...(tls
          ? [
              `  certificate: ${tls.certFile}   (trust it in the client)`,
              `  OPENOBD_GRPC_HOST=${endpoint}   (leave OPENOBD_GRPC_PORT unset)`,
              `  GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=${tls.certFile}`,
            ]
          : [`  OPENOBD_GRPC_HOST=${host}`, `  OPENOBD_GRPC_PORT=${port}`]),
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
    void sim.stop().then(() => {
      removeTemporary();
      process.exit(0);
    });
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`openobd-simulator: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

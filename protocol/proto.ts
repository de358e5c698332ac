import * as fs from 'node:fs';
import * as path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import type { MethodDefinition, PackageDefinition } from '@grpc/proto-loader';

/**
 * Loads the openOBD wire interface from the package's own `proto/` folder, once per process.
 *
 * Field names keep their snake_case wire spelling (`keepCase`), so the code reads like the protocol
 * documentation; enums travel as their names and 64-bit integers as strings, which keeps every decoded
 * message plain JSON.
 */

export const PROTO_PACKAGE = 'openOBD.v1';

/** The proto folder ships at the package root; compiled code lives two levels below it (dist/client). */
export const PROTO_ROOT = findProtoRoot();

function findProtoRoot(): string {
  for (const candidate of [path.resolve(__dirname, '..', '..', 'proto'), path.resolve(__dirname, '..', 'proto')]) {
    if (fs.existsSync(path.join(candidate, 'openobd'))) return candidate;
  }
  throw new Error(`openOBD proto files not found next to ${__dirname}`);
}

function protoFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...protoFiles(full));
    else if (entry.name.endsWith('.proto')) out.push(path.relative(PROTO_ROOT, full));
  }
  return out.sort();
}

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

let cached: PackageDefinition | undefined;

/** The package definition of every openOBD service; parsed on first use and then shared. */
export function openObdDefinition(): PackageDefinition {
  if (!cached) cached = protoLoader.loadSync(protoFiles(PROTO_ROOT), LOADER_OPTIONS);
  return cached;
}

/** The services of openOBD 1.25.3, by their wire names. */
export type ServiceName =
  | 'sessionController'
  | 'session'
  | 'config'
  | 'can'
  | 'kline'
  | 'doip'
  | 'terminal15'
  | 'connectionMonitor'
  | 'vehicleInfo'
  | 'userInterface'
  | 'function'
  | 'functionBroker';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyMethod = MethodDefinition<any, any>;

/** One method's definition (path, serializers, streaming kind). Throws on a name the proto does not have. */
export function method(service: ServiceName, name: string): AnyMethod {
  const svc = openObdDefinition()[`${PROTO_PACKAGE}.${service}`] as Record<string, AnyMethod> | undefined;
  const def = svc?.[name];
  if (!def) throw new Error(`openOBD proto has no method ${service}/${name}`);
  return def;
}

/** A service definition, as `grpc.Server.addService` wants it. */
export function serviceDefinition(service: ServiceName): Record<string, AnyMethod> {
  const svc = openObdDefinition()[`${PROTO_PACKAGE}.${service}`] as Record<string, AnyMethod> | undefined;
  if (!svc) throw new Error(`openOBD proto has no service ${service}`);
  return svc;
}

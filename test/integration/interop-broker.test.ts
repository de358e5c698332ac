import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { SessionController, type FunctionBroker, type FunctionCall, type HostedFunction } from '../../client';

/*
 * Interoperability of the function broker client: the broker here is a plain @grpc/grpc-js server built
 * only from the .proto files under proto/ (nothing from simulator/), scripted message by message as the
 * openOBD documentation describes the broker ("Function broker", "Hosting functions"). So the client is
 * proven against the protocol, not against our own simulator: registration answers that do not name their
 * function, a pushed token to echo and use, a reconnect request, a stream the broker ends, and a function
 * call whose session is claimed on the session service of the same server.
 */

function findProtoDir(): string {
  for (const candidate of [path.resolve(__dirname, '..', '..', '..', 'proto'), path.resolve(__dirname, '..', '..', 'proto')]) {
    if (fs.existsSync(path.join(candidate, 'openobd', 'v1', 'function_broker.proto'))) return candidate;
  }
  throw new Error(`proto/ not found from ${__dirname}`);
}

const PROTO_DIR = findProtoDir();

function protoFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...protoFiles(full));
    else if (entry.name.endsWith('.proto')) out.push(path.relative(PROTO_DIR, full));
  }
  return out.sort();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

const v1 = (
  grpc.loadPackageDefinition(
    protoLoader.loadSync(protoFiles(PROTO_DIR), {
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
      includeDirs: [PROTO_DIR],
    }),
  ) as Any
).openOBD.v1;

const ID_A = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';
const ID_B = '6fa459ea-ee8a-4ca4-894e-db77e160355e';

function bearerOf(call: { metadata: grpc.Metadata }): string {
  return String(call.metadata.get('authorization')[0] ?? '').replace(/^Bearer\s+/i, '');
}

async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** What the scripted broker saw. */
interface Seen {
  tokenFetches: number;
  streams: Array<{ call: grpc.ServerDuplexStream<Any, Any>; bearer: string; updates: Any[] }>;
  unaryBearers: string[];
  authenticated: string[];
  finished: Any[];
  tokenStreams: number;
}

describe('interoperability: the function broker client against a plain grpc-js broker built from proto/ only', function () {
  this.timeout(20000);
  let server: grpc.Server;
  let port: number;
  let seen: Seen;
  let controller: SessionController;
  let broker: FunctionBroker;
  /** How the broker answers a registration: by function id. */
  const answers: Record<string, string> = {};

  beforeEach(async function () {
    seen = { tokenFetches: 0, streams: [], unaryBearers: [], authenticated: [], finished: [], tokenStreams: 0 };
    server = new grpc.Server();
    server.addService(v1.functionBroker.service, {
      getFunctionBrokerToken: (call: Any, cb: Any) => {
        seen.tokenFetches += 1;
        assert.equal(call.request.client_id, 'partner');
        cb(null, { value: `broker-token-${seen.tokenFetches}` });
      },
      openFunctionStream: (call: grpc.ServerDuplexStream<Any, Any>) => {
        const entry = { call, bearer: bearerOf(call), updates: [] as Any[] };
        seen.streams.push(entry);
        call.on('data', (u: Any) => {
          entry.updates.push(u);
          if (u.type === 'FUNCTION_UPDATE_TYPE_REQUEST' && u.function_registration) {
            // The documented answer: type RESPONSE and a response code; this broker does not echo the registration.
            const id = u.function_registration.details.id;
            call.write({
              type: 'FUNCTION_UPDATE_TYPE_RESPONSE',
              response: answers[id] ?? 'FUNCTION_UPDATE_SUCCESS',
              response_description: `answer for ${id}`,
            });
          }
        });
        call.on('end', () => call.end());
        call.on('error', () => undefined);
      },
      getFunctionRegistration: (call: Any, cb: Any) => {
        seen.unaryBearers.push(bearerOf(call));
        cb(null, { details: { id: call.request.value, name: 'A', version: '1' }, state: 'FUNCTION_REGISTRATION_STATE_ONLINE' });
      },
      runFunction: (_call: Any, cb: Any) => cb({ code: grpc.status.UNIMPLEMENTED }),
      generateFunctionSignature: (_call: Any, cb: Any) => cb(null, { id: ID_A, signature: 'sig-a' }),
    });
    server.addService(v1.session.service, {
      authenticate: (call: Any, cb: Any) => {
        seen.authenticated.push(bearerOf(call));
        cb(null, { value: 'session-token-1' });
      },
      assertAuthenticationPossible: (_call: Any, cb: Any) => cb(null, {}),
      openSessionTokenStream: (call: Any) => {
        seen.tokenStreams += 1;
        call.sendMetadata(new grpc.Metadata());
        call.on('cancelled', () => undefined);
      },
      finish: (call: Any, cb: Any) => {
        seen.finished.push({ bearer: bearerOf(call), result: call.request });
        cb(null, {});
      },
    });
    server.addService(v1.function.service, {
      getFunctionArgumentList: (call: Any, cb: Any) => {
        assert.equal(bearerOf(call), 'session-token-1');
        cb(null, { variables: [{ key: 'mode', value: 'quick' }] });
      },
    });
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    controller = new SessionController({
      endpoint: { host: '127.0.0.1', port, tls: false },
      credentials: { clientId: 'partner', clientSecret: 'secret', clusterId: '001' },
      env: {},
      session: { tokenIntervalMs: 60_000 },
    });
    broker = controller.functionBroker({ reconnect: { initialDelayMs: 20, maxDelayMs: 100 }, closeGraceMs: 50 });
  });

  afterEach(async function () {
    await broker.close();
    controller.close();
    server.forceShutdown();
  });

  async function hostTwo(handler: (c: FunctionCall) => void = () => undefined): Promise<[HostedFunction, HostedFunction]> {
    answers[ID_B] = 'FUNCTION_UPDATE_UNAUTHORIZED';
    const a = broker.host({ id: ID_A, signature: 'sig-a', name: 'A', version: '2', visibility: 'internal' }, handler);
    const b = broker.host({ id: ID_B, signature: 'sig-b', name: 'B' }, handler);
    await waitFor(() => a.state === 'online' && b.state === 'unauthorized', 5000, 'the answers');
    return [a, b];
  }

  it('one stream with the broker token; registrations as documented; answers that do not name their function are matched in order', async function () {
    const [a, b] = await hostTwo();
    assert.equal(seen.streams.length, 1);
    assert.equal(seen.streams[0]!.bearer, 'broker-token-1');
    const regs = seen.streams[0]!.updates.map((u) => u.function_registration);
    assert.deepEqual(regs[0], {
      details: { id: ID_A, version: '2', name: 'A', products: [], vehicles: [] },
      state: 'FUNCTION_REGISTRATION_STATE_ONLINE',
      signature: 'sig-a',
      _signature: 'signature',
      visibility: 'FUNCTION_VISIBILITY_INTERNAL',
      _visibility: 'visibility',
    });
    assert.equal(regs[1].visibility, 'FUNCTION_VISIBILITY_DASHBOARD');
    assert.equal(a.reason, `answer for ${ID_A}`);
    assert.equal(b.reason, `answer for ${ID_B}`);
    // Stopping sends OFFLINE.
    await a.stop();
    assert.equal(seen.streams[0]!.updates.at(-1).function_registration.state, 'FUNCTION_REGISTRATION_STATE_OFFLINE');
    assert.equal(a.state, 'offline');
  });

  it('echoes a pushed broker token as a RESPONSE and uses it for the next calls', async function () {
    await hostTwo();
    seen.streams[0]!.call.write({ type: 'FUNCTION_UPDATE_TYPE_REQUEST', function_broker_token: { value: 'pushed-token' } });
    await waitFor(() => seen.streams[0]!.updates.some((u) => u.function_broker_token), 3000, 'the echo');
    const echo = seen.streams[0]!.updates.find((u) => u.function_broker_token);
    assert.equal(echo.type, 'FUNCTION_UPDATE_TYPE_RESPONSE');
    assert.equal(echo.function_broker_token.value, 'pushed-token');
    await broker.getRegistration(ID_A);
    assert.deepEqual(seen.unaryBearers, ['pushed-token']);
    assert.equal(seen.tokenFetches, 1);
  });

  it('a reconnect request: a new stream, every function registered on it, before the broker drops the old one', async function () {
    await hostTwo();
    const old = seen.streams[0]!;
    old.call.write({ type: 'FUNCTION_UPDATE_TYPE_REQUEST', function_broker_reconnect: { seconds_until_disconnect: 5 } });
    await waitFor(() => seen.streams.length === 2 && seen.streams[1]!.updates.length >= 2, 3000, 'the new stream and its registrations');
    assert.deepEqual(
      seen.streams[1]!.updates.map((u) => u.function_registration.details.id),
      [ID_A, ID_B],
    );
    // The old stream is let go by the client once the new one serves.
    await new Promise<void>((resolve) => {
      if (old.call.cancelled) resolve();
      old.call.on('cancelled', () => resolve());
      old.call.on('finish', () => resolve());
    });
  });

  it('a stream the broker ends is reopened and everything registered again', async function () {
    const [a] = await hostTwo();
    seen.streams[0]!.call.end();
    await waitFor(() => seen.streams.length === 2, 3000, 'a new stream');
    await waitFor(() => a.state === 'online' && seen.streams[1]!.updates.length >= 2, 3000, 'registered again');
    assert.ok(broker.stats.reopens >= 1);
  });

  it('a function call: the session is claimed with the handed-over token, the call answered SUCCESS, the handler gets session and arguments', async function () {
    let got: FunctionCall | undefined;
    await hostTwo((c) => {
      got = c;
    });
    const stream = seen.streams[0]!;
    stream.call.write({
      type: 'FUNCTION_UPDATE_TYPE_REQUEST',
      function_call: {
        id: ID_A,
        caller_id: 'someone',
        session_info: {
          id: 'session-1',
          state: 'available',
          created_at: '2025-01-01T00:00:00Z',
          grpc_endpoint: `127.0.0.1:${port}`,
          authentication_token: 'one-time-token',
        },
      },
    });
    await waitFor(() => !!got, 5000, 'the handler');
    assert.deepEqual(seen.authenticated, ['one-time-token']);
    assert.equal(got!.callerId, 'someone');
    assert.deepEqual(got!.arguments, { mode: 'quick' });
    assert.equal(got!.session.id, 'session-1');
    assert.equal(got!.session.state, 'active');
    await waitFor(() => seen.tokenStreams === 1, 3000, 'the keepalive');
    await waitFor(() => stream.updates.some((u) => u.function_call), 3000, 'the answer to the call');
    const answer = stream.updates.find((u) => u.function_call);
    assert.equal(answer.type, 'FUNCTION_UPDATE_TYPE_RESPONSE');
    assert.equal(answer.response, 'FUNCTION_UPDATE_SUCCESS');
    assert.equal(answer.function_call.id, ID_A);
    assert.equal(answer.function_call.session_info.authentication_token, '', 'the one-time token is not sent back');
    await got!.session.finish({ result: 'RESULT_SUCCESS', description: 'done' });
    assert.deepEqual(seen.finished, [
      { bearer: 'session-token-1', result: { result: ['RESULT_SUCCESS'], description: 'done', _description: 'description' } },
    ]);
    // A call for a function that is not hosted here is answered FAILED.
    stream.call.write({
      type: 'FUNCTION_UPDATE_TYPE_REQUEST',
      function_call: { id: ID_B, session_info: { id: 's2', authentication_token: 'x' } },
    });
    await waitFor(() => stream.updates.filter((u) => u.function_call).length === 2, 3000, 'the refusal');
    assert.equal(stream.updates.filter((u) => u.function_call)[1].response, 'FUNCTION_UPDATE_FAILED');
  });
});

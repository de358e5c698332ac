import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { DEFAULT_SIMULATOR_CREDENTIALS, OpenObdSimulator, type SimulatorOptions } from '../../simulator';

/*
 * Interoperability: a plain @grpc/grpc-js client built only from the .proto files under proto/ (nothing
 * from client/), as any other openOBD client would be, drives the simulator through a whole session and
 * meets the documented error statuses (openOBD documentation, "Problems"). If the simulator only worked with our own
 * client library, this is where it would show.
 */

function findProtoDir(): string {
  // Compiled into dist/test/integration, or run from test/integration: the proto folder is at the package root.
  for (const candidate of [path.resolve(__dirname, '..', '..', '..', 'proto'), path.resolve(__dirname, '..', '..', 'proto')]) {
    if (fs.existsSync(path.join(candidate, 'openobd', 'v1', 'session_controller.proto'))) return candidate;
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
type ServiceCtor = new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client & Record<string, Any>;

const definition = protoLoader.loadSync(protoFiles(PROTO_DIR), {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
});
const v1 = (grpc.loadPackageDefinition(definition) as Any).openOBD.v1 as Record<string, ServiceCtor>;

const VIN_HEX = Buffer.from('WVWZZZAU6KW204711', 'latin1').toString('hex').toUpperCase();

function bearer(token: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
}

/** A unary call as a promise; rejects with the grpc-js ServiceError. */
function unary<T = Any>(
  client: grpc.Client & Record<string, Any>,
  method: string,
  request: unknown,
  metadata = new grpc.Metadata(),
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    client[method](request, metadata, { deadline: Date.now() + 5000 }, (err: grpc.ServiceError | null, reply: T) =>
      err ? reject(err) : resolve(reply),
    );
  });
}

/** Asserts a gRPC failure by status code and exact details. */
function grpcError(code: grpc.status, details: string | RegExp) {
  return (err: grpc.ServiceError): boolean => {
    assert.equal(err.code, code, `status ${grpc.status[err.code]} (${err.details}), expected ${grpc.status[code]}`);
    if (typeof details === 'string') assert.equal(err.details, details);
    else assert.match(err.details, details);
    return true;
  };
}

async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

const OBD_BUS = {
  bus_name: 'obd',
  can_bus: { pin_plus: 6, pin_min: 14, can_protocol: 'CAN_PROTOCOL_ISOTP', can_bit_rate: 'CAN_BIT_RATE_500' },
};
const ENGINE_CHANNEL = { bus_name: 'obd', request_id: 0x7e0, response_id: 0x7e8 };

describe('interoperability: a plain grpc-js client built from proto/ only', function () {
  this.timeout(15000);
  let sim: OpenObdSimulator | undefined;
  const clients: grpc.Client[] = [];
  const calls: Array<{ cancel(): void }> = [];

  async function boot(options: SimulatorOptions = {}): Promise<OpenObdSimulator> {
    sim = new OpenObdSimulator(options);
    await sim.start();
    return sim;
  }

  /** A client of one openOBD service, closed after the test. */
  function client(service: string, endpoint: string) {
    const Ctor = v1[service];
    assert.equal(typeof Ctor, 'function', `proto/ defines the service openOBD.v1.${service}`);
    const c = new Ctor(endpoint, grpc.credentials.createInsecure());
    clients.push(c);
    return c;
  }

  async function controllerToken(controller: grpc.Client & Record<string, Any>): Promise<string> {
    const { client_id, client_secret, cluster_id } = {
      client_id: DEFAULT_SIMULATOR_CREDENTIALS.clientId,
      client_secret: DEFAULT_SIMULATOR_CREDENTIALS.clientSecret,
      cluster_id: DEFAULT_SIMULATOR_CREDENTIALS.clusterId,
    };
    const reply = await unary<{ value: string }>(controller, 'getSessionControllerToken', { client_id, client_secret, cluster_id });
    assert.equal(typeof reply.value, 'string');
    assert.ok(reply.value.length >= 16);
    return reply.value;
  }

  /** A session on a ticket, claimed: the controller token, the SessionInfo and the first session token. */
  async function claim(s: OpenObdSimulator, ticket = '1001') {
    const controller = client('sessionController', s.endpoint);
    const ctoken = await controllerToken(controller);
    const info = await unary(controller, 'startSessionOnTicket', { value: ticket }, bearer(ctoken));
    const session = client('session', info.grpc_endpoint);
    const { value: sessionToken } = await unary<{ value: string }>(session, 'authenticate', {}, bearer(info.authentication_token));
    return { controller, ctoken, info, session, sessionToken };
  }

  afterEach(async function () {
    for (const c of calls.splice(0)) c.cancel();
    for (const c of clients.splice(0)) c.close();
    await sim?.stop();
    sim = undefined;
  });

  it('drives a whole session: token, ticket, authenticate, token stream, configureBus, ISO-TP 22 F190, configuration, finish', async function () {
    const s = await boot({ tokenIntervalMs: 100 });
    const controller = client('sessionController', s.endpoint);

    // 1. Controller token with the partner credentials, no bearer.
    const ctoken = await controllerToken(controller);

    // 2. A session on the ticket, with the controller token as bearer.
    const info = await unary(controller, 'startSessionOnTicket', { value: '1001' }, bearer(ctoken));
    assert.match(info.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(info.state, 'available');
    assert.equal(info.grpc_endpoint, s.endpoint);
    assert.ok(!Number.isNaN(Date.parse(info.created_at)), `created_at ${info.created_at}`);
    assert.ok(info.authentication_token.length >= 16);

    // 3. Claim it with the one-time authentication token, on the endpoint the SessionInfo names.
    const session = client('session', info.grpc_endpoint);
    const auth = await unary<{ value: string }>(session, 'authenticate', {}, bearer(info.authentication_token));
    assert.ok(auth.value.length >= 16);
    assert.notEqual(auth.value, info.authentication_token);
    assert.equal((await unary(controller, 'getSession', { value: info.id }, bearer(ctoken))).state, 'active');

    // 4. The token stream brings new session tokens (every 100 ms here); each one works.
    const tokens: string[] = [];
    const tokenStream = session.openSessionTokenStream({}, bearer(auth.value)) as grpc.ClientReadableStream<{ value: string }>;
    calls.push(tokenStream);
    const tokenStreamEnd = new Promise<grpc.ServiceError | 'end'>((resolve) => {
      tokenStream.on('error', (err: grpc.ServiceError) => resolve(err));
      tokenStream.on('end', () => resolve('end'));
    });
    tokenStream.on('data', (t: { value: string }) => tokens.push(t.value));
    await waitFor(() => tokens.length >= 3, 3000, 'three rotated session tokens');
    assert.equal(new Set([auth.value, ...tokens]).size, tokens.length + 1, 'every token is new');
    const token = () => tokens[tokens.length - 1]!;

    // 5. configureBus: a client stream of BusConfiguration messages, half-closed, one EmptyMessage back.
    const config = client('config', info.grpc_endpoint);
    const configured = await new Promise<unknown>((resolve, reject) => {
      const call = config.configureBus(bearer(token()), { deadline: Date.now() + 5000 }, (err: grpc.ServiceError | null, reply: unknown) =>
        err ? reject(err) : resolve(reply),
      );
      call.write(OBD_BUS);
      call.end();
    });
    assert.deepEqual(configured, {});

    // 6. ISO-TP: announce the channel with an empty payload, then send 22F190 on it.
    const can = client('can', info.grpc_endpoint);
    const isotp = can.openIsotpStream(bearer(token())) as grpc.ClientDuplexStream<Any, Any>;
    calls.push(isotp);
    const received: Array<{ channel: Any; payload: string }> = [];
    const isotpEnd = new Promise<grpc.ServiceError | 'end'>((resolve) => {
      isotp.on('error', (err: grpc.ServiceError) => resolve(err));
      isotp.on('end', () => resolve('end'));
    });
    isotp.on('data', (m: { channel: Any; payload: string }) => received.push(m));
    isotp.write({ channel: ENGINE_CHANNEL, payload: '' });
    await delay(50);
    assert.equal(received.length, 0, 'the announcement gets no answer');
    isotp.write({ channel: ENGINE_CHANNEL, payload: '22F190' });
    await waitFor(() => received.length >= 1, 3000, 'the answer to 22F190');
    assert.equal(received.length, 1);
    assert.equal(received[0]!.payload, `62F190${VIN_HEX}`, 'upper-case hex on the same channel');
    const ch = received[0]!.channel;
    assert.deepEqual([ch.bus_name, ch.request_id, ch.response_id], ['obd', 0x7e0, 0x7e8]);

    // 7. The configuration lists the bus and the announced channel.
    const configuration = await unary(config, 'getConfiguration', {}, bearer(token()));
    assert.equal(configuration.buses.length, 1);
    assert.equal(configuration.buses[0].bus_name, 'obd');
    assert.equal(configuration.buses[0].BusDefinition, 'can_bus');
    assert.deepEqual(configuration.buses[0].can_bus, OBD_BUS.can_bus);
    assert.equal(configuration.channels.length, 1);
    assert.equal(configuration.channels[0].ChannelDefinition, 'isotp_channel');
    const cc = configuration.channels[0].isotp_channel;
    assert.deepEqual([cc.bus_name, cc.request_id, cc.response_id], ['obd', 0x7e0, 0x7e8]);

    // 8. Finish with a ServiceResult; the session controller then reports it finished.
    assert.deepEqual(await unary(session, 'finish', { result: ['RESULT_SUCCESS'], description: 'interop' }, bearer(token())), {});
    const after = await unary(controller, 'getSession', { value: info.id }, bearer(ctoken));
    assert.deepEqual(
      { id: after.id, state: after.state, created_at: after.created_at, authentication_token: after.authentication_token },
      { id: info.id, state: 'finished', created_at: info.created_at, authentication_token: '' },
    );
    // The server ends the session's streams; a later call with the session token is refused.
    for (const ended of [await tokenStreamEnd, await isotpEnd]) {
      assert.notEqual(ended, 'end');
      grpcError(grpc.status.FAILED_PRECONDITION, `Session ${info.id} has ended (finished)`)(ended as grpc.ServiceError);
    }
    await assert.rejects(
      unary(config, 'getConfiguration', {}, bearer(token())),
      (err: grpc.ServiceError) => err.code === grpc.status.UNAUTHENTICATED || err.code === grpc.status.FAILED_PRECONDITION,
    );
    await waitFor(() => s.stats().openStreams === 0, 2000, 'no stream left on the server');
  });

  /** configureBus as a client stream: each bus, half-close, one EmptyMessage back. */
  function configureBus(endpoint: string, token: string, buses: unknown[]): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      const call = client('config', endpoint).configureBus(
        bearer(token),
        { deadline: Date.now() + 5000 },
        (err: grpc.ServiceError | null, reply: unknown) => (err ? reject(err) : resolve(reply)),
      );
      for (const b of buses) call.write(b);
      call.end();
    });
  }

  /** Opens a bidirectional stream, announces `channel`, sends `payload` and resolves with the first answer. */
  async function exchange(
    stream: grpc.ClientDuplexStream<Any, Any>,
    channel: Any,
    payload: string,
  ): Promise<{ channel: Any; payload: string }> {
    calls.push(stream);
    const answer = new Promise<{ channel: Any; payload: string }>((resolve, reject) => {
      stream.on('data', (m: { channel: Any; payload: string }) => (m.payload ? resolve(m) : undefined));
      stream.on('error', reject);
    });
    stream.write({ channel, payload: '' });
    stream.write({ channel, payload });
    return answer;
  }

  it('one message on each transport: K-Line, TP 2.0, DoIP, raw CAN frames and terminal 15', async function () {
    const s = await boot();
    const ascii = (t: string) => Buffer.from(t, 'latin1').toString('hex').toUpperCase();
    const asBuses = (...b: unknown[]) => b;

    // The classic car (ticket 2001): K-Line on pin 7, TP 2.0 on the CAN, terminal 15 on pin 1.
    const classic = await claim(s, '2001');
    const ep = classic.info.grpc_endpoint;
    assert.deepEqual(
      await configureBus(
        ep,
        classic.sessionToken,
        asBuses(
          { bus_name: 'kl', kline_bus: { pin: 7, kline_protocol: 'KLINE_PROTOCOL_ISO14230_FAST', kline_bit_rate: 'KLINE_BIT_RATE_10400' } },
          { bus_name: 'tp', can_bus: { pin_plus: 6, pin_min: 14, can_protocol: 'CAN_PROTOCOL_TP20', can_bit_rate: 'CAN_BIT_RATE_500' } },
          { bus_name: 'kl15', terminal15_bus: { pin: 1 } },
        ),
      ),
      {},
    );
    const kline = await exchange(
      client('kline', ep).openKlineStream(bearer(classic.sessionToken)),
      { bus_name: 'kl', ecu_id: 0x15, keyword: { key_byte_1: 0xef, key_byte_2: 0x8f } },
      '1A87',
    );
    assert.equal(kline.payload, `5A87${ascii('1K0909605AB')}`);
    assert.deepEqual([kline.channel.bus_name, kline.channel.ecu_id], ['kl', 0x15]);
    const tp20 = await exchange(
      client('can', ep).openTp20Stream(bearer(classic.sessionToken)),
      { bus_name: 'tp', logical_address: 1 },
      '1A90',
    );
    assert.equal(tp20.payload, `5A90${ascii('WVWZZZ1KZ6W612345')}`);
    assert.deepEqual([tp20.channel.bus_name, tp20.channel.logical_address], ['tp', 1]);
    const kl15 = client('terminal15', ep).openTerminal15Stream({}, bearer(classic.sessionToken)) as grpc.ClientReadableStream<Any>;
    calls.push(kl15);
    const state = await new Promise<Any>((resolve, reject) => {
      kl15.on('data', resolve);
      kl15.on('error', reject);
    });
    assert.equal(state.state, 'STATE_ON');

    // The fleet car (ticket 2002): DoIP, Ethernet pin option 2.
    const fleet = await claim(s, '2002');
    await configureBus(fleet.info.grpc_endpoint, fleet.sessionToken, [
      { bus_name: 'eth', doip_bus: { doip_option: 'DOIP_OPTION_2', doip_network_configuration: 'DOIP_NETWORK_CONFIGURATION_1' } },
    ]);
    const doip = await exchange(
      client('doip', fleet.info.grpc_endpoint).openDoipStream(bearer(fleet.sessionToken)),
      { bus_name: 'eth', gateway_id: 0x1010, tester_id: 0x0e80, ecu_id: 0x4012 },
      '22F189',
    );
    assert.equal(doip.payload, `62F189${ascii('1203')}`);
    assert.deepEqual([doip.channel.gateway_id, doip.channel.tester_id, doip.channel.ecu_id], [0x1010, 0x0e80, 0x4012]);

    // The default car (ticket 1001): raw frames; a single-frame TesterPresent to 7E0, the answer frame on 7E8.
    const plain = await claim(s, '1001');
    await configureBus(plain.info.grpc_endpoint, plain.sessionToken, [
      { bus_name: 'frames', can_bus: { pin_plus: 6, pin_min: 14, can_protocol: 'CAN_PROTOCOL_FRAMES', can_bit_rate: 'CAN_BIT_RATE_500' } },
    ]);
    const raw = client('can', plain.info.grpc_endpoint).openRawStream(bearer(plain.sessionToken)) as grpc.ClientDuplexStream<Any, Any>;
    calls.push(raw);
    const answer = new Promise<Any>((resolve, reject) => {
      raw.on('data', (m: Any) => (m.channel.response_id === 0x7e8 ? resolve(m) : undefined));
      raw.on('error', reject);
    });
    raw.write({ channel: { bus_name: 'frames', response_id: 0x7e8 } });
    raw.write({ channel: { bus_name: 'frames', request_id: 0x7e0 }, payload: '023E00' });
    const frame = await answer;
    assert.equal(frame.payload, '027E00AAAAAAAAAA');
    assert.deepEqual([frame.channel.bus_name, frame.channel.response_id], ['frames', 0x7e8]);
  });

  it('ISO-TP payloads in lower-case hex are accepted; answers come in upper case', async function () {
    const s = await boot();
    const { session, sessionToken, info } = await claim(s);
    const config = client('config', info.grpc_endpoint);
    await new Promise<unknown>((resolve, reject) => {
      const call = config.configureBus(
        bearer(sessionToken),
        { deadline: Date.now() + 5000 },
        (err: grpc.ServiceError | null, reply: unknown) => (err ? reject(err) : resolve(reply)),
      );
      call.write(OBD_BUS);
      call.end();
    });
    const isotp = client('can', info.grpc_endpoint).openIsotpStream(bearer(sessionToken)) as grpc.ClientDuplexStream<Any, Any>;
    calls.push(isotp);
    const received: string[] = [];
    const errors: grpc.ServiceError[] = [];
    isotp.on('error', (err: grpc.ServiceError) => errors.push(err));
    isotp.on('data', (m: { payload: string }) => received.push(m.payload));
    isotp.write({ channel: ENGINE_CHANNEL, payload: '' });
    isotp.write({ channel: ENGINE_CHANNEL, payload: '22f190' });
    await waitFor(() => received.length >= 1, 3000, 'the answer to 22f190');
    isotp.write({ channel: ENGINE_CHANNEL, payload: '3e00' });
    await waitFor(() => received.length >= 2, 3000, 'the answer to 3e00');
    assert.deepEqual(received, [`62F190${VIN_HEX}`, '7E00']);
    assert.deepEqual(errors, []);
    assert.deepEqual(await unary(session, 'finish', { result: ['RESULT_SUCCESS'] }, bearer(sessionToken)), {});
  });

  it('wrong partner credentials: INVALID_ARGUMENT "Invalid client"; no bearer at all: UNAUTHENTICATED', async function () {
    const s = await boot();
    const controller = client('sessionController', s.endpoint);
    await assert.rejects(
      unary(controller, 'getSessionControllerToken', {
        client_id: DEFAULT_SIMULATOR_CREDENTIALS.clientId,
        client_secret: 'wrong-secret',
        cluster_id: DEFAULT_SIMULATOR_CREDENTIALS.clusterId,
      }),
      grpcError(grpc.status.INVALID_ARGUMENT, 'Invalid client'),
    );
    await assert.rejects(
      unary(controller, 'getSessionControllerToken', {
        client_id: DEFAULT_SIMULATOR_CREDENTIALS.clientId,
        client_secret: DEFAULT_SIMULATOR_CREDENTIALS.clientSecret,
        cluster_id: '002',
      }),
      grpcError(grpc.status.INVALID_ARGUMENT, 'Invalid client'),
      'the cluster is part of the credentials',
    );
    await assert.rejects(
      unary(controller, 'startSessionOnTicket', { value: '1001' }),
      grpcError(grpc.status.UNAUTHENTICATED, 'Missing bearer token'),
    );
  });

  it('an unknown ticket: FAILED_PRECONDITION `No ticket found with the ticket number: "…"`', async function () {
    const s = await boot();
    const controller = client('sessionController', s.endpoint);
    const ctoken = await controllerToken(controller);
    await assert.rejects(
      unary(controller, 'startSessionOnTicket', { value: '424242' }, bearer(ctoken)),
      grpcError(grpc.status.FAILED_PRECONDITION, 'No ticket found with the ticket number: "424242"'),
    );
  });

  it('a call with the authentication token before authenticate: PERMISSION_DENIED with the documented text', async function () {
    const s = await boot();
    const controller = client('sessionController', s.endpoint);
    const ctoken = await controllerToken(controller);
    const info = await unary(controller, 'startSessionOnTicket', { value: '1001' }, bearer(ctoken));
    const denied = grpcError(grpc.status.PERMISSION_DENIED, 'Only allowed call to be made at this point is the authenticate() call');
    await assert.rejects(unary(client('config', info.grpc_endpoint), 'getConfiguration', {}, bearer(info.authentication_token)), denied);
    await assert.rejects(unary(client('vehicleInfo', info.grpc_endpoint), 'getEcuList', {}, bearer(info.authentication_token)), denied);
    // A server stream is refused the same way.
    const session = client('session', info.grpc_endpoint);
    const stream = session.openSessionTokenStream({}, bearer(info.authentication_token)) as grpc.ClientReadableStream<unknown>;
    calls.push(stream);
    const streamError = await new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
    denied(streamError);
    // The refusals did not use the token up: authenticate still works.
    assert.ok((await unary<{ value: string }>(session, 'authenticate', {}, bearer(info.authentication_token))).value);
  });

  it('a second authenticate: PERMISSION_DENIED "Session is already authenticated, …"', async function () {
    const s = await boot();
    const { session, info, sessionToken } = await claim(s);
    const already = grpcError(
      grpc.status.PERMISSION_DENIED,
      'Session is already authenticated, at this point the authenticate() call is not permitted',
    );
    await assert.rejects(unary(session, 'authenticate', {}, bearer(info.authentication_token)), already);
    await assert.rejects(unary(session, 'authenticate', {}, bearer(sessionToken)), already);
    // The session itself is unharmed.
    const ecus = await unary(client('vehicleInfo', info.grpc_endpoint), 'getEcuList', {}, bearer(sessionToken));
    assert.deepEqual(
      ecus.ecus.map((e: Any) => [e.EcuType, e.isotp_ecu.request_id, e.isotp_ecu.response_id]),
      [
        ['isotp_ecu', 0x7e0, 0x7e8],
        ['isotp_ecu', 0x7e1, 0x7e9],
        ['isotp_ecu', 0x760, 0x768],
      ],
    );
  });

  it('an expired session token (tiny tokenValidityMs, no token stream): UNAUTHENTICATED', async function () {
    const s = await boot({ tokenValidityMs: 60 });
    const { info, sessionToken } = await claim(s);
    const config = client('config', info.grpc_endpoint);
    // Still valid right after authenticate…
    assert.deepEqual((await unary(config, 'getConfiguration', {}, bearer(sessionToken))).buses, []);
    await delay(120);
    // …and refused once its validity has passed (the sweep may already have forgotten it: either text says so).
    await assert.rejects(
      unary(config, 'getConfiguration', {}, bearer(sessionToken)),
      grpcError(grpc.status.UNAUTHENTICATED, /^(Token has expired|Invalid or expired token)$/),
    );
  });
});

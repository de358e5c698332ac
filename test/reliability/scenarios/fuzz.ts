import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { SessionController } from '../../../client';
import { registry } from '../../../nodes/lib/registry';
import type { AnyMsg } from '../../support/nodered';
import { PARTNER, describeOutcome } from '../harness/flow';
import { FlowHarness } from '../harness/harness';
import { prng } from '../harness/prng';
import { collectGarbage } from '../harness/resources';
import { figures, scenarioResult, type ScenarioResult } from '../harness/result';
import { LOG_LEVEL, dropSpyHistory, onLog } from '../harness/taps';

export interface FuzzCase {
  node: 'req' | 'start' | 'finish' | 'interrupt';
  kind: string;
  msg: AnyMsg;
  /** Acceptable msg.error.code values. */
  codes: string[];
}

export interface FuzzContext {
  live: string;
  ended: string;
  foreign: string;
}

/**
 * `count` malformed messages for the request, start, finish and interrupt nodes: bad hex, odd-length
 * hex, empty payloads, payloads over 4095 bytes, wrong types, missing or foreign session ids, unknown
 * tickets, results out of range. None of them may do anything but fail with one of `codes`.
 */
export function fuzzCases(count: number, ctx: FuzzContext, seed = 20240601): FuzzCase[] {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)];
  const hex = (bytes: number) => Array.from({ length: bytes }, () => int(256).toString(16).padStart(2, '0')).join('');
  const uuid = () => `${hex(4)}-${hex(2)}-4${hex(2).slice(1)}-8${hex(2).slice(1)}-${hex(6)}`;
  const weird: unknown[] = [
    42,
    -1,
    0.5,
    NaN,
    Infinity,
    true,
    false,
    null,
    {},
    { a: 1 },
    [[1, 2]],
    new Date(0),
    BigInt(7),
    new Float32Array(2),
    new Int8Array([1]),
    Symbol('x'),
    { type: 'Buffer' },
    new Map(),
  ];
  const badIds: unknown[] = [
    42,
    '',
    '   ',
    {},
    [],
    true,
    null,
    { id: 'x' },
    'x'.repeat(300),
    ctx.foreign,
    uuid(),
    '../../etc/passwd',
    '\u0000',
    '11111111-2222-4333-8444-555555555555',
  ];
  const sessionShapes = (): { openobd?: unknown; codes: string[] } => {
    switch (int(6)) {
      case 0:
        return { codes: ['NO_SESSION'] };
      case 1:
        return { openobd: pick([null, 'abc', 17, [], true]), codes: ['NO_SESSION'] };
      case 2:
        return { openobd: { sessionId: pick(badIds) }, codes: ['NO_SESSION'] };
      case 3:
        return { openobd: { sessionId: uuid() }, codes: ['NO_SESSION'] };
      case 4:
        return { openobd: { sessionId: ctx.foreign }, codes: ['NO_SESSION'] };
      default:
        return { openobd: { sessionId: ctx.ended }, codes: ['SESSION_ENDED'] };
    }
  };
  const live = () => ({ sessionId: ctx.live });

  const request = (): FuzzCase => {
    const k = int(8);
    if (k === 7) {
      const s = sessionShapes();
      return {
        node: 'req',
        kind: 'request: missing or foreign session id',
        msg: { payload: '3E00', ...(s.openobd === undefined ? {} : { openobd: s.openobd }) },
        codes: s.codes,
      };
    }
    let payload: unknown;
    let kind: string;
    if (k === 0) {
      const text = hex(1 + int(20));
      const i = int(text.length);
      payload =
        text.slice(0, i) +
        pick([...'GHIJKLMNOPQRSTUVWXYZghijklmnopqrstuvwxyz!#$%&*+,./:;<=>?@[]^_`{|}~"\'', '\u00e9', '\u{1F600}', '\u0000']) +
        text.slice(i);
      kind = 'request: bad hex';
    } else if (k === 1) {
      payload = hex(int(20)) + pick([...'0123456789ABCDEFabcdef']);
      kind = 'request: odd-length hex';
    } else if (k === 2) {
      payload = pick<unknown>(['', '   ', '\t\n', [], Buffer.alloc(0), new Uint8Array(0), { type: 'Buffer', data: [] }, '0x']);
      kind = 'request: empty payload';
    } else if (k === 3) {
      const n = 4096 + int(3000);
      payload = pick<() => unknown>([
        () => 'AB'.repeat(n),
        () => Buffer.alloc(n, 0x22),
        () => Array(n).fill(0x22),
        () => ({ type: 'Buffer', data: Array(n).fill(1) }),
      ])();
      kind = 'request: over 4095 bytes';
    } else if (k === 4 || k === 5) {
      payload = pick(weird);
      kind = 'request: wrong type';
    } else {
      payload = pick<unknown>([
        [0x22, 256],
        [-1],
        [1.5],
        ['22'],
        [NaN],
        [0x3e, null],
        { type: 'Buffer', data: [300] },
        { type: 'Buffer', data: 'x' },
        [0x22, 0xf1, 0x90, 1e9],
      ]);
      kind = 'request: byte out of range';
    }
    return { node: 'req', kind, msg: { payload, openobd: live() }, codes: ['BAD_PAYLOAD'] };
  };

  const start = (): FuzzCase => {
    const k = int(5);
    if (k === 0) {
      const ticket = pick<() => string>([
        () => String(2000 + int(1e8)),
        () => `T-${hex(3)}`,
        () => '１００１',
        () => '10\u000001',
        () => `${1005 + int(1000)}`,
      ])();
      return { node: 'start', kind: 'start: unknown ticket', msg: { payload: ticket }, codes: ['FAILED_PRECONDITION'] };
    }
    if (k === 1)
      return {
        node: 'start',
        kind: 'start: wrong type',
        msg: {
          payload: pick<unknown>([{}, [], true, false, null, undefined, Buffer.from('1001'), NaN, Infinity, { ticket: '1002' }, ['1002']]),
        },
        codes: ['BAD_REQUEST'],
      };
    if (k === 2)
      return {
        node: 'start',
        kind: 'start: empty or too long',
        msg: { payload: pick(['', '   ', '\n', 'x'.repeat(201 + int(500))]) },
        codes: ['BAD_REQUEST'],
      };
    if (k === 3)
      // 1003 is held by another partner's session (1001, held here, would be reused).
      return { node: 'start', kind: 'start: ticket busy', msg: { payload: pick(['1003', ' 1003 ', 1003]) }, codes: ['UNAVAILABLE'] };
    return { node: 'start', kind: 'start: unknown ticket number', msg: { payload: 5000 + int(1e6) }, codes: ['FAILED_PRECONDITION'] };
  };

  const finish = (): FuzzCase => {
    const k = int(5);
    if (k === 0) {
      const s = sessionShapes();
      return {
        node: 'finish',
        kind: 'finish: missing or foreign session id',
        msg: { result: 'success', ...(s.openobd === undefined ? {} : { openobd: s.openobd }) },
        codes: s.codes,
      };
    }
    if (k === 1 || k === 2) {
      // Only truthy values: a blank result means the default RESULT_SUCCESS, which is valid.
      const result = pick<unknown>([
        'RESULT_MAYBE',
        'maybe',
        'RESULT_SUCCESS; DROP',
        7,
        -3,
        true,
        {},
        { result: 'success' },
        [],
        ['RESULT_SUCCESS', 'BOGUS'],
        [42],
        [null],
        ['success', {}],
        'RESULT_',
        'FAILURE_',
        '\u0000',
      ]);
      return { node: 'finish', kind: 'finish: result out of range', msg: { openobd: live(), result }, codes: ['BAD_REQUEST'] };
    }
    if (k === 3) {
      return {
        node: 'finish',
        kind: 'finish: user feedback out of range',
        msg: {
          openobd: live(),
          result: 'success',
          userFeedback: pick<unknown>(['happy', 5, 0, false, null, {}, ['SUCCESS'], 'USER_FEEDBACK_', 'USER_FEEDBACK_MAYBE']),
        },
        codes: ['BAD_REQUEST'],
      };
    }
    return {
      node: 'finish',
      kind: 'finish: description not text',
      msg: { openobd: live(), result: 'success', description: pick<unknown>([42, {}, [], true, { text: 'x' }, Buffer.from('x')]) },
      codes: ['BAD_REQUEST'],
    };
  };

  const interrupt = (): FuzzCase => {
    const k = int(5);
    if (k === 0)
      return {
        node: 'interrupt',
        kind: 'interrupt: missing session id',
        msg: pick<AnyMsg>([{}, { openobd: null }, { openobd: {} }, { openobd: 'x' }, { openobd: { sessionId: undefined } }]),
        codes: ['NO_SESSION'],
      };
    if (k === 1)
      return {
        node: 'interrupt',
        kind: 'interrupt: wrong type',
        msg: { openobd: { sessionId: pick<unknown>([{}, [], true, false, null, { id: 1 }, NaN, Infinity]) } },
        codes: ['BAD_REQUEST'],
      };
    if (k === 2)
      return {
        node: 'interrupt',
        kind: 'interrupt: empty or too long',
        msg: { openobd: { sessionId: pick(['', '  ', 'x'.repeat(201 + int(300))]) } },
        codes: ['BAD_REQUEST'],
      };
    if (k === 3)
      return { node: 'interrupt', kind: 'interrupt: foreign session', msg: { openobd: { sessionId: ctx.foreign } }, codes: ['NOT_FOUND'] };
    return {
      node: 'interrupt',
      kind: 'interrupt: unknown session',
      msg: { openobd: { sessionId: pick<() => unknown>([uuid, () => int(1e6), () => `s-${hex(4)}`])() } },
      codes: ['NOT_FOUND'],
    };
  };

  const makers = [request, request, start, finish, interrupt];
  return Array.from({ length: count }, (_, i) => makers[i % makers.length]());
}

/**
 * `count` malformed messages through the request, start, finish and interrupt nodes: each ends in one
 * caught error with an expected code, nothing crashes, the heap stays flat, and afterwards valid
 * messages work on the same flow and session.
 */
export async function fuzzScenario(opts: { count: number; seed?: number }): Promise<ScenarioResult> {
  const t0 = Date.now();
  const partnerB = { clientId: 'other-partner', clientSecret: 'other-secret', clusterId: '001' };
  const h = await FlowHarness.start({ sim: { partners: [{ ...PARTNER, clusterId: '001' }, partnerB], vehicles: 4 } });
  const f = figures();
  f.faults = opts.count;
  const byKind: Record<string, number> = {};
  const leaks = await h.closeAfter(async () => {
    const crashes: string[] = [];
    const onCrash = (err: unknown) => crashes.push(inspect(err).slice(0, 500));
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);
    const logs: Array<{ level?: number; msg?: unknown }> = [];
    const offLog = onLog((e) => logs.push(e as { level?: number; msg?: unknown }));
    try {
      const live = await h.startSession('1001');
      const ended = await h.startSession('1002');
      const fin = await h.send('finish', { openobd: { sessionId: ended }, result: 'success' });
      assert.ok(fin.ok, `could not finish the session for "ended": ${describeOutcome(fin)}`);
      // A session of another partner on the same service: invisible to this account.
      const other = new SessionController({
        endpoint: { host: '127.0.0.1', port: h.sim.port as number, tls: false },
        credentials: partnerB,
        env: {},
      });
      const foreignInfo = await other.startSessionOnTicket('1003');
      other.close();
      const cases = fuzzCases(opts.count, { live, ended, foreign: foreignInfo.id }, opts.seed);
      let heapAfterWarmup = 0;
      const warmup = Math.min(200, Math.floor(opts.count / 5));
      const logsBefore = logs.length;
      for (let i = 0; i < cases.length; i++) {
        if (i === warmup) {
          dropSpyHistory();
          collectGarbage();
          heapAfterWarmup = process.memoryUsage().heapUsed;
        }
        const c = cases[i];
        const o = await h.send(c.node, c.msg, 20000);
        f.requests += 1;
        byKind[c.kind] = (byKind[c.kind] ?? 0) + 1;
        // The message is built only for a case that failed: inspecting every case would slow the run down.
        if (!(!o.ok && c.codes.includes(o.code ?? '') && o.source === c.node && (o.message ?? '').length > 0))
          assert.fail(
            `#${i} ${c.kind} ${inspect(c.msg, { depth: 2, maxStringLength: 60, maxArrayLength: 5 })}: expected a caught ${c.codes.join('|')} error from ${c.node} with a message, got ${describeOutcome(o)}`,
          );
        f.expectedErrors += 1;
        if (i % 100 === 99) dropSpyHistory();
      }
      dropSpyHistory();
      collectGarbage();
      const heapEnd = process.memoryUsage().heapUsed;
      f.details.heapGrowthMb = Math.round(((heapEnd - heapAfterWarmup) / 1048576) * 10) / 10;
      f.details.cases = byKind;
      // Flat: what 80 % of the messages left on the heap, after a full collection.
      assert.ok(
        heapEnd - heapAfterWarmup <= 8 * 1048576,
        `the heap grew by ${String(f.details.heapGrowthMb)} MB over ${opts.count - warmup} malformed messages`,
      );
      const uncaughtLogs = logs.slice(logsBefore).filter((l) => (l.level ?? 99) <= LOG_LEVEL.error);
      assert.equal(
        uncaughtLogs.length,
        0,
        `${uncaughtLogs.length} errors were logged instead of reaching Catch: ${inspect(uncaughtLogs[0]).slice(0, 300)}`,
      );
      assert.equal(h.driver.duplicates, 0, `${h.driver.duplicates} messages had more than one outcome (an output and an error, or two)`);
      assert.equal(crashes.length, 0, `uncaught exceptions or rejections: ${crashes.slice(0, 2).join(' | ')}`);
      // The live session was never touched; valid messages work on every node afterwards.
      const valid: Array<[string, AnyMsg, RegExp | undefined]> = [
        ['req', { payload: '22F190', openobd: { sessionId: live } }, /^62F190/],
        ['get', { openobd: { sessionId: live } }, undefined],
        ['start', { payload: '1004' }, undefined],
      ];
      for (const [node, msg, pattern] of valid) {
        const o = await h.send(node, msg);
        f.requests += 1;
        assert.ok(
          o.ok && (!pattern || pattern.test(String(o.msg?.payload))),
          `a valid message to ${node} after the fuzz: ${o.ok ? `answered ${String(o.msg?.payload)}` : describeOutcome(o)}`,
        );
        f.recovered += 1;
      }
      const fourth = registry.list().find((l) => l.target.ticketId === '1004');
      const last: Array<[string, AnyMsg]> = [
        ['finish', { openobd: { sessionId: live }, result: 'success' }],
        ['interrupt', { openobd: { sessionId: fourth?.id } }],
      ];
      for (const [node, msg] of last) {
        const o = await h.send(node, msg);
        f.requests += 1;
        assert.ok(o.ok, `a valid message to ${node} after the fuzz: ${describeOutcome(o)}`);
        f.recovered += 1;
      }
    } finally {
      process.off('uncaughtException', onCrash);
      process.off('unhandledRejection', onCrash);
      offLog();
    }
  });
  return scenarioResult(`fuzz: ${opts.count} malformed messages`, h, t0, leaks, f);
}

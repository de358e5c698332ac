/**
 * One scenario's world: an external simulator, Node-RED (node-red-node-test-helper runs the real
 * runtime) with the reliability flow in 'custom' mode, a driver and an RSS sampler. Stopping it reports
 * everything left behind; `closeAfter` stops it after a scenario and asserts nothing was.
 */
import assert from 'node:assert/strict';
import { defaultConnectionPool } from '../../../client';
import { OpenObdSimulator, type SimulatorOptions } from '../../../simulator';
import { registry } from '../../../nodes/lib/registry';
import type { AccountNode } from '../../../nodes/lib/accounts';
import { catchNode, helper, openobdNodes, type AnyMsg } from '../../support/nodered';
import { FlowDriver, PARTNER, reliabilityFlow, type FlowNode, type Outcome } from './flow';
import { RssSampler, collectGarbage, excess, resources } from './resources';
import { dropSpyHistory } from './taps';
import { until } from './wait';

export interface LeakReport {
  /** Resource kinds above their baseline after everything closed (process.getActiveResourcesInfo). */
  process: Record<string, number>;
  /** Streams still open on the simulator after Node-RED stopped. */
  serverStreams: number;
  /** Sessions still registered in this process. */
  liveSessions: number;
  /** gRPC channels still pooled. */
  channels: number;
  /** Registry subscriptions above the baseline (status trackers that were not released). */
  subscribers: number;
  total: number;
  /** How long stopping Node-RED took. */
  closeMs: number;
}

export interface HarnessOptions {
  sim?: SimulatorOptions;
  /** settings.js `openobdAccountSession`. */
  session?: Record<string, unknown>;
  account?: Record<string, unknown>;
  extra?: FlowNode[];
  credentials?: { clientId: string; clientSecret: string };
  /** The account's recheck interval while openOBD is unreachable. */
  recheckIntervalMs?: number;
}

/**
 * One scenario's world: an external simulator, Node-RED with the reliability flow in 'custom' mode, a
 * driver, samplers; `close()` stops everything and reports what was left behind, `closeAfter(body)`
 * runs a scenario's body and then stops everything.
 */
export class FlowHarness {
  readonly sim: OpenObdSimulator;
  readonly driver = new FlowDriver();
  readonly rss = new RssSampler();
  readonly options: HarnessOptions;
  readonly #baseline: Record<string, number>;
  readonly #subscribers: number;
  #spyDrain?: NodeJS.Timeout;

  private constructor(sim: OpenObdSimulator, options: HarnessOptions, baseline: Record<string, number>, subscribers: number) {
    this.sim = sim;
    this.options = options;
    this.#baseline = baseline;
    this.#subscribers = subscribers;
  }

  static async start(options: HarnessOptions = {}): Promise<FlowHarness> {
    // After a turn of the event loop, so a test runner's own timer for this test (mocha arms it once the
    // test function has returned its promise) is part of the baseline.
    await new Promise((r) => setImmediate(r));
    collectGarbage();
    const baseline = resources();
    const subscribers = registry.subscriberCount;
    // Capped at 100 concurrent streams per HTTP/2 connection, as gRPC front ends commonly are.
    const sim = new OpenObdSimulator({ tokenIntervalMs: 300, tokenValidityMs: 3000, maxConcurrentStreams: 100, ...options.sim });
    await sim.start();
    const h = new FlowHarness(sim, options, baseline, subscribers);
    helper.settings({
      credentialSecret: false,
      openobdAccountSession: {
        tokenIntervalMs: 300,
        tokenValidityMs: 3000,
        reconnect: { initialDelayMs: 25, maxDelayMs: 250 },
        ...options.session,
      },
    } as never);
    await helper.load([openobdNodes, catchNode] as never, h.flow() as never, h.credentials() as never);
    h.afterDeploy();
    h.#spyDrain = setInterval(dropSpyHistory, 1000);
    h.#spyDrain.unref();
    return h;
  }

  /** A fresh credentials object each time: the runtime deletes entries of the one it is given. */
  credentials(c = this.options.credentials ?? PARTNER): Record<string, unknown> {
    return { account: { ...c } };
  }

  flow(account: Record<string, unknown> = {}, changes: Record<string, Record<string, unknown>> = {}): FlowNode[] {
    return reliabilityFlow(this.sim.port as number, { ...this.options.account, ...account }, this.options.extra ?? [], changes);
  }

  /** Re-attaches the driver and applies settings that live on the account runtime. */
  afterDeploy(): void {
    this.driver.attach();
    if (this.options.recheckIntervalMs !== undefined) {
      const account = helper.getNode('account') as unknown as AccountNode | null;
      if (account?.runtime) account.runtime.settings.recheckIntervalMs = this.options.recheckIntervalMs;
    }
  }

  /** A deploy of `flow` (type full, flows or nodes); resolves with how long stopping the old nodes took. */
  async deploy(
    flow: FlowNode[],
    type: 'full' | 'flows' | 'nodes',
    credentials?: { clientId: string; clientSecret: string },
  ): Promise<number> {
    const t0 = Date.now();
    await helper.setFlows(flow as never, type, this.credentials(credentials) as never);
    const ms = Date.now() - t0;
    this.afterDeploy();
    return ms;
  }

  send(nodeId: string, msg: AnyMsg, timeoutMs?: number): Promise<Outcome> {
    return this.driver.send(nodeId, msg, timeoutMs);
  }

  async startSession(ticket = '1001', timeoutMs = 20000): Promise<string> {
    const o = await this.send('start', { payload: ticket }, timeoutMs);
    if (!o.ok) throw new Error(`start on ticket ${ticket} failed: ${o.code} ${o.message}`);
    return o.msg?.openobd.sessionId as string;
  }

  request(sessionId: string, payload: unknown, node = 'req', timeoutMs?: number): Promise<Outcome> {
    return this.send(node, { payload, openobd: { sessionId } }, timeoutMs);
  }

  /** Stops Node-RED and the simulator; reports every stream, session, channel and handle left behind. */
  async close(): Promise<LeakReport> {
    if (this.#spyDrain) clearInterval(this.#spyDrain);
    const t0 = Date.now();
    await helper.unload();
    const closeMs = Date.now() - t0;
    helper.settings({});
    await until(() => this.sim.stats().openStreams === 0, 5000);
    const serverStreams = this.sim.stats().openStreams;
    const liveSessions = registry.size;
    // In use or idle (kept for a next session): after Node-RED stopped, neither may be left.
    const channels = defaultConnectionPool.size + defaultConnectionPool.idle;
    const subscribers = Math.max(0, registry.subscriberCount - this.#subscribers);
    await this.sim.stop();
    this.rss.stop();
    dropSpyHistory();
    // Sockets close and timers fire asynchronously: give them a moment, event-polled.
    await until(() => Object.keys(excess(this.#baseline, resources())).length === 0, 5000);
    const left = excess(this.#baseline, resources());
    const processLeft = Object.values(left).reduce((a, b) => a + b, 0);
    return {
      process: left,
      serverStreams,
      liveSessions,
      channels,
      subscribers,
      total: processLeft + serverStreams + liveSessions + channels + subscribers,
      closeMs,
    };
  }

  /**
   * Runs `body`, then stops Node-RED and the simulator. When `body` throws (an assertion that failed),
   * everything is stopped and its error rethrown: the first broken expectation is what the scenario
   * reports. Otherwise nothing may be left behind and stopping Node-RED must take under 5 s.
   */
  async closeAfter(body: () => Promise<void>): Promise<LeakReport> {
    try {
      await body();
    } catch (err) {
      await this.close().catch(() => undefined);
      throw err;
    }
    const leaks = await this.close();
    assertNothingLeft(leaks);
    return leaks;
  }
}

/** After Node-RED stopped: nothing left open on either side, and the stop was quick. */
export function assertNothingLeft(leaks: LeakReport): void {
  assert.equal(
    leaks.total,
    0,
    `after Node-RED stopped, streams, sessions, channels, status subscriptions or timers and sockets were left behind: ${JSON.stringify(leaks)}`,
  );
  assert.ok(leaks.closeMs < 5000, `stopping Node-RED took ${leaks.closeMs} ms (a deploy or shutdown would hang that long)`);
}

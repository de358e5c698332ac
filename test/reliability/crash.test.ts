import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_SIMULATOR_CREDENTIALS, type OpenObdSimulator } from '../../simulator';
import { startSession } from '../support/flow-builder';
import { startSimulator, waitFor } from '../support/sim';
import { request, startNodeRed, type NodeRedServer } from '../support/nodered-server';

/**
 * What real life does to a running procedure at the process level: Node-RED killed without a chance to end
 * its sessions (SIGKILL, as an out-of-memory kill or a power cut), and two Node-RED processes with the same
 * flows on one partner account (an HA pair, two hosts). Real Node-RED processes, one simulator started
 * here (outside Node-RED, as openOBD is), the account pointing at it.
 */
describe('Sessions across crashes and Node-RED instances', function () {
  this.timeout(120000);
  let sim: OpenObdSimulator | undefined;
  const servers: NodeRedServer[] = [];

  afterEach(async function () {
    for (const s of servers.splice(0)) await s.stop().catch(() => undefined);
    await sim?.stop();
    sim = undefined;
  });

  /** Inject "go" → start session on ticket 1001 (wait) → debug; Catch → debug; both debug nodes write to the log. */
  function flows(port: number): unknown[] {
    return [
      { id: 'tab', type: 'tab', label: 'Guided check' },
      {
        id: 'account',
        type: 'openobd-account',
        name: 'openOBD (test)',
        mode: 'custom',
        host: `127.0.0.1:${port}`,
        port,
        tls: false,
        clusterId: DEFAULT_SIMULATOR_CREDENTIALS.clusterId,
        closePolicy: 'interrupt',
        idleMinutes: 0,
      },
      { id: 'go', z: 'tab', type: 'inject', name: 'go', props: [], repeat: '', once: false, x: 100, y: 100, wires: [['start']] },
      startSession({ target: '1001', ifHeld: 'wait', waitSeconds: 5, x: 300, y: 100, to: ['started'] }),
      {
        id: 'started',
        z: 'tab',
        type: 'debug',
        name: 'started',
        active: true,
        console: true,
        tosidebar: true,
        complete: 'openobd',
        x: 500,
        y: 100,
        wires: [],
      },
      { id: 'catch', z: 'tab', type: 'catch', scope: null, uncaught: false, x: 100, y: 200, wires: [['failed']] },
      {
        id: 'failed',
        z: 'tab',
        type: 'debug',
        name: 'failed',
        active: true,
        console: true,
        tosidebar: true,
        complete: 'error',
        x: 300,
        y: 200,
        wires: [],
      },
    ];
  }

  const credentials = {
    account: { clientId: DEFAULT_SIMULATOR_CREDENTIALS.clientId, clientSecret: DEFAULT_SIMULATOR_CREDENTIALS.clientSecret },
  };

  async function nodeRed(port: number, userDir?: string): Promise<NodeRedServer> {
    const nr = await startNodeRed({ flows: flows(port), credentials, userDir });
    servers.push(nr);
    return nr;
  }

  /** Presses "go": the inject node answers 404 until Node-RED has started the flows, which follows the editor's 200. */
  async function go(nr: NodeRedServer): Promise<void> {
    const deadline = Date.now() + 20000;
    for (;;) {
      const r = await request(`${nr.url}inject/go`, { method: 'POST' });
      if (r.status === 200) return;
      if (r.status !== 404 || Date.now() > deadline) assert.fail(`inject go: HTTP ${r.status} ${r.body}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  const open = () => [...sim!.sessions.values()].filter((s) => s.ticketId === '1001' && (s.state === 'active' || s.state === 'available'));
  const active = () => open().filter((s) => s.state === 'active');
  /** The start's debug node wrote its message to the log. */
  const started = (nr: NodeRedServer) => /\[debug:started\]/.test(nr.output());

  it('SIGKILL while a session is active: the restart interrupts it within seconds, the same flow then starts on the ticket', async function () {
    sim = await startSimulator();
    const nr = await nodeRed(sim.port!);
    await go(nr);
    await waitFor(() => started(nr), 15000, 'the session to start');
    const id = active()[0]!.id;

    // The record holds the session, never a secret or a token.
    const record = fs.readFileSync(path.join(nr.userDir, '.openobd', 'sessions-account.json'), 'utf8');
    assert.match(record, new RegExp(id));
    assert.doesNotMatch(record, new RegExp(DEFAULT_SIMULATOR_CREDENTIALS.clientSecret));
    assert.doesNotMatch(record, /token/i);
    for (const t of sim.tokens.keys()) assert.ok(!record.includes(t));

    await nr.kill();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(sim.sessions.get(id)?.state, 'active', 'nothing ended it: the car is blocked until Node-RED comes back');

    const t0 = Date.now();
    const again = await nodeRed(sim.port!, nr.userDir);
    await waitFor(() => sim!.sessions.get(id)?.state === 'interrupted', 15000, 'the left-over session to be interrupted');
    const seconds = (Date.now() - t0) / 1000;
    assert.ok(seconds < 15, `freed ${seconds} s after the restart began`);
    // The figure the README quotes (the restart includes Node-RED's own start-up).
    console.log(`      the ticket was free ${seconds.toFixed(1)} s after the restart began`);
    await waitFor(() => /Interrupted session .* on ticket 1001/.test(again.output()), 5000, 'the log line');
    assert.match(again.output(), new RegExp(`Interrupted session ${id} on ticket 1001 .*Node-RED stopped without ending it`));

    // The ticket is free: the same flow starts on it at once.
    await go(again);
    await waitFor(() => active().length === 1 && active()[0]!.id !== id, 15000, 'a new session on the ticket');
    assert.doesNotMatch(again.output(), /ticket busy|already in use/i);

    // A graceful stop ends it and leaves no record behind.
    await again.stop({ keepUserDir: true });
    servers.splice(servers.indexOf(again), 1);
    assert.equal(open().length, 0);
    assert.equal(fs.existsSync(path.join(nr.userDir, '.openobd', 'sessions-account.json')), false);
    fs.rmSync(nr.userDir, { recursive: true, force: true });
  });

  it('two Node-RED processes, same flows, one partner account: one gets the ticket, the other says "ticket busy"; neither ends the other\'s session', async function () {
    sim = await startSimulator();
    const a = await nodeRed(sim.port!);
    const b = await nodeRed(sim.port!);
    await Promise.all([go(a), go(b)]);
    await waitFor(() => started(a) || started(b), 15000, 'one start to succeed');
    await waitFor(() => /another session is running on it/.test(a.output() + b.output()), 15000, 'the other to report ticket busy');
    assert.equal(open().length, 1, 'one session holds the ticket');
    const winner = started(a) ? a : b;
    const loser = winner === a ? b : a;
    assert.match(loser.output(), /Interrupt the session that holds this ticket or connector, or wait until it ends/);
    const id = active()[0]!.id;

    // The loser holds nothing: stopping it (or its start-up) ends nothing of the winner's.
    await loser.stop();
    servers.splice(servers.indexOf(loser), 1);
    const spare = await nodeRed(sim.port!);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(sim.sessions.get(id)?.state, 'active');
    await spare.stop();
    servers.splice(servers.indexOf(spare), 1);
    assert.equal(sim.sessions.get(id)?.state, 'active');
  });
});

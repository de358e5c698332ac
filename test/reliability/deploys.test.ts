import assert from 'node:assert/strict';
import { nodeRedVersion } from '../support/nodered';
import { report } from './harness/result';
import { deployPlan, deployScenario, restartsAccount } from './scenarios/deploys';

const COUNT = Number(process.env.RELIABILITY_DEPLOYS || 50);

/**
 * Lifecycle hygiene: full and partial deploys with live sessions and a request in flight, counted on both
 * sides of the wire. The close policy: a deploy that restarts the account node (full deploy, or any
 * change to the account) ends its open sessions by its "close policy" (interrupt by default, or finish
 * with RESULT_FAILURE_RUNTIME_ERROR); a partial deploy that leaves the account alone keeps them, as does
 * nothing else; stopping Node-RED ends them like a full deploy.
 */
describe(`reliability (Node-RED ${nodeRedVersion()}): deploys`, function () {
  this.timeout(300000);

  it('the deploy plan mixes full, flows and nodes deploys, with and without account changes, under both close policies', function () {
    const plan = deployPlan(COUNT);
    assert.equal(plan.length, COUNT);
    for (const type of ['full', 'flows', 'nodes']) assert.ok(plan.filter((s) => s.type === type).length >= 3, type);
    assert.ok(plan.filter(restartsAccount).length >= 5);
    assert.ok(plan.filter((s) => !restartsAccount(s)).length >= 5);
    assert.ok(
      plan.filter((s) => s.change === 'account-policy').length >= 2,
      'the policy changes, so both policies are in force at some deploy',
    );
  });

  it(`${COUNT} full and partial deploys (RELIABILITY_DEPLOYS) with two live sessions and a request in flight: no stream, timer, channel or session leaked, each close under 5 s, sessions ended exactly by the close policy`, async function () {
    const r = await deployScenario({ count: COUNT });
    report(r);
    const closeMs = (r.details.closeMs as { max: number }).max;
    assert.ok(closeMs < 5000, `the slowest deploy took ${closeMs} ms to stop the old nodes`);
    const ended = r.details.sessionsEnded as { interrupted: number; finished: number };
    assert.ok(ended.interrupted > 0 && ended.finished > 0, `sessions ended by each policy: ${JSON.stringify(ended)}`);
  });
});

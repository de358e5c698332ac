import assert from 'node:assert/strict';
import { nodeRedVersion } from '../support/nodered';
import { report } from './harness/result';
import { fuzzCases, fuzzScenario } from './scenarios/fuzz';

const COUNT = Number(process.env.RELIABILITY_FUZZ_COUNT || 1000);

/**
 * Malformed input through real flows: every message must end in exactly one caught error with a code,
 * Node-RED must keep running with a flat heap, and valid messages must work afterwards.
 */
describe(`reliability (Node-RED ${nodeRedVersion()}): bad input`, function () {
  this.timeout(180000);

  it('the generator covers every kind of malformed input for the request, start, finish and interrupt nodes', function () {
    const cases = fuzzCases(COUNT, { live: 'L', ended: 'E', foreign: 'F' });
    assert.equal(cases.length, COUNT);
    const kinds = new Set(cases.map((c) => c.kind));
    for (const kind of [
      'request: bad hex',
      'request: odd-length hex',
      'request: empty payload',
      'request: over 4095 bytes',
      'request: wrong type',
      'request: byte out of range',
      'request: missing or foreign session id',
      'start: unknown ticket',
      'start: wrong type',
      'start: empty or too long',
      'start: ticket busy',
      'finish: result out of range',
      'finish: user feedback out of range',
      'finish: description not text',
      'finish: missing or foreign session id',
      'interrupt: missing session id',
      'interrupt: wrong type',
      'interrupt: foreign session',
      'interrupt: unknown session',
    ]) {
      assert.ok(kinds.has(kind), `no "${kind}" case`);
    }
    for (const node of ['req', 'start', 'finish', 'interrupt']) assert.ok(cases.filter((c) => c.node === node).length >= COUNT / 6, node);
    // Same seed, same messages: a failure can be replayed.
    assert.deepEqual(
      fuzzCases(20, { live: 'L', ended: 'E', foreign: 'F' }).map((c) => c.kind),
      cases.slice(0, 20).map((c) => c.kind),
    );
  });

  it(`${COUNT} malformed messages (RELIABILITY_FUZZ_COUNT) through request, start, finish and interrupt: each one caught with its code, no crash, flat heap, valid messages work afterwards`, async function () {
    const r = await fuzzScenario({ count: COUNT });
    report(r);
    assert.equal(r.expectedErrors, COUNT, 'every malformed message ended in a coded error');
    assert.equal(r.recovered, 5, 'request, get, start, finish and interrupt work after the fuzz');
    assert.ok((r.details.heapGrowthMb as number) < 8, `heap growth ${String(r.details.heapGrowthMb)} MB`);
  });
});

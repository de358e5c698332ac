'use strict';
/**
 * Mocha's spec reporter, plus a record of what went wrong for the summary at the end of `npm test`: every failed
 * test or hook, and every test that passed only on a retry (a flake stays visible, it is not hidden by the retry).
 * The record goes to the file named by OPENOBD_TEST_RECORD; without it this is the plain spec reporter.
 */
const fs = require('node:fs');
const Spec = require('mocha/lib/reporters/spec');

class SpecWithRecord extends Spec {
  constructor(runner, options) {
    super(runner, options);
    const file = process.env.OPENOBD_TEST_RECORD;
    if (!file) return;
    const note = (line) => fs.appendFileSync(file, `${line}\n`);
    const firstLine = (err) =>
      String((err && err.message) || err)
        .split('\n')[0]
        .slice(0, 300);
    runner.on('fail', (test, err) => note(`failed: ${test.fullTitle()}: ${firstLine(err)}`));
    runner.on('retry', (test, err) => note(`retried: ${test.fullTitle()}: ${firstLine(err)}`));
  }
}

module.exports = SpecWithRecord;

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { browserSkipReason, launchChromium, screenshotFile } from '../support/browser';
import { canvasNode, clickInject, deploy, findNode, importExample, openEditor, type Editor } from '../support/editor-page';
import { ROOT, nodeRedPackage, startNodeRed, unsupportedNode, type NodeRedServer } from '../support/nodered-server';

/*
 * The statuses of examples 01, 02, 03, 07 and 12 as a person reads them under the nodes, in English and in
 * German (the runtime and the editor in that language): what the car answered in words, never the hex.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const RED: any;

const nr = nodeRedPackage();
const MODULE = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string }).name;

interface Words {
  vin: RegExp;
  dtcs: RegExp;
  noDtcs: RegExp;
  live: RegExp;
  scan: RegExp;
}

const WORDS: Record<'en-US' | 'de', Words> = {
  'en-US': {
    vin: /^VIN WVWZZZAU6KW204711 · Volkswagen 2019$/,
    dtcs: /^3 DTCs: P0301, P0171, P0442$/,
    noDtcs: /^no DTCs$/,
    live: /^\d+(\.\d)? rpm · \d+ km\/h · -?\d+ °C · [\d.]+ V$/,
    scan: /^30 \/ 30 ECUs, \d+ DTCs$/,
  },
  de: {
    vin: /^VIN WVWZZZAU6KW204711 · Volkswagen 2019$/,
    dtcs: /^3 Fehlercodes: P0301, P0171, P0442$/,
    noDtcs: /^keine Fehlercodes$/,
    live: /^\d+(\.\d)? rpm · \d+ km\/h · -?\d+ °C · [\d.]+ V$/,
    scan: /^30 \/ 30 Steuergeräte, \d+ Fehlercodes$/,
  },
};

for (const lang of ['en-US', 'de'] as const) {
  describe(`Node-RED ${nr.version} in Chromium (${lang}): statuses in the car's words`, function () {
    this.timeout(240000);
    let server: NodeRedServer | undefined;
    let browser: Browser | undefined;
    let editor: Editor | undefined;
    let page: Page;
    const words = WORDS[lang];
    const shot = (name: string) => screenshotFile(`${nr.version}-statuses-${lang}-${name}`);

    before(async function () {
      const skip = browserSkipReason();
      if (skip) this.skip();
      const unsupported = unsupportedNode(nr);
      if (unsupported) throw new Error(unsupported);
      browser = await launchChromium();
      // The runtime speaks the editor's language: statuses with values in them are worded there.
      server = await startNodeRed({
        settings: { lang, openobdAccountSimulator: { ui: { mode: 'script', answerDelayMs: 50, answers: [true, true, true, true] } } },
      });
      editor = await openEditor(browser, server.url, { locale: lang });
      page = editor.page;
    });

    after(async function () {
      await editor?.close();
      await browser?.close().catch(() => undefined);
      await server?.stop();
    });

    afterEach(async function () {
      if (this.currentTest?.state === 'failed' && page)
        await page.screenshot({ path: shot(`failed-${this.currentTest.title.slice(0, 30)}`) }).catch(() => undefined);
    });

    /** The status text under a node as drawn, once it matches (the last one seen otherwise). */
    async function statusOf(id: string, want: RegExp, timeoutMs = 30000): Promise<string> {
      const label = canvasNode(page, id).locator('.red-ui-flow-node-status-label');
      const deadline = Date.now() + timeoutMs;
      let text = '';
      while (Date.now() < deadline) {
        text = ((await label.textContent().catch(() => '')) ?? '').trim();
        if (want.test(text)) return text;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`status of ${id}: "${text}" does not match ${want}`);
    }

    async function example(file: string): Promise<string> {
      const { tab } = await importExample(page, MODULE, file);
      await deploy(page);
      await page.evaluate((z) => RED.workspaces.show(z), tab);
      return tab;
    }

    it('01: the VIN with the maker and year; start session ends as finished', async function () {
      const tab = await example('01 Read the VIN and identify the car');
      await clickInject(page, await findNode(page, tab, 'inject', 'read VIN'));
      await statusOf(await findNode(page, tab, 'openobd-request', 'request VIN (22 F1 90)'), words.vin);
      await page.screenshot({ path: shot('01') });
    });

    it('02: the fault codes read, then none after clearing', async function () {
      const tab = await example('02 Read, clear and re-read DTCs');
      await clickInject(page, await findNode(page, tab, 'inject', 'UDS: engine DTCs'));
      await statusOf(await findNode(page, tab, 'openobd-request', 'read again'), words.noDtcs);
      await statusOf(await findNode(page, tab, 'openobd-request', 'read DTCs'), /P0301/);
      await page.screenshot({ path: shot('02') });
    });

    it('03: live data with units', async function () {
      const tab = await example('03 Live data from OBD-II PIDs');
      await clickInject(page, await findNode(page, tab, 'inject', 'start'));
      await statusOf(await findNode(page, tab, 'openobd-request', 'rpm, speed, coolant, volts'), words.live);
      await page.screenshot({ path: shot('03') });
      await clickInject(page, await findNode(page, tab, 'inject', 'stop'));
    });

    it('07: the codes the guided check read', async function () {
      const tab = await example('07 Guided check with the technician');
      await clickInject(page, await findNode(page, tab, 'inject', 'start guided check'));
      await statusOf(await findNode(page, tab, 'openobd-request', 'read DTCs'), words.dtcs);
      await page.screenshot({ path: shot('07') });
    });

    it('12: the scan counts ECUs and codes', async function () {
      const tab = await example('12 Full-system scan');
      await clickInject(page, await findNode(page, tab, 'inject', 'scan the car'));
      const scan = await page.evaluate(
        (z) => RED.nodes.filterNodes({ z, type: 'openobd-scan' }).find((n: any) => !n.name).id as string,
        tab,
      );
      await statusOf(scan, words.scan, 60000);
      await page.screenshot({ path: shot('12') });
      // No status anywhere shows an answer's raw hex (the words replaced it).
      const hexy = await page.evaluate(() =>
        $('.red-ui-flow-node-status-label')
          .toArray()
          .map((e) => (e.textContent ?? '').trim())
          .filter((t) => /^[0-9A-F]{8,} \d+ ms$/.test(t)),
      );
      assert.deepEqual(hexy, []);
    });
  });
}

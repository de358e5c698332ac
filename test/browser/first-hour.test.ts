import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { browserSkipReason, launchChromium, screenshotFile } from '../support/browser';
import { canvasNode, openEditor, showDebugSidebar, type Editor } from '../support/editor-page';
import { ROOT, freePort, nodeRedPackage, request, unsupportedNode } from '../support/nodered-server';

/*
 * A newcomer's first hour, in Chromium at 1366×768, on the Node-RED that `npm start` sets up (its own
 * settings.js, the example deployed on the built-in simulator): the palette manager is there, the
 * simulator's tab is open with a title that fits, and a node whose own settings cannot work says so at
 * deploy, where the user looks (its status and the debug sidebar).
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const RED: any;

const nr = nodeRedPackage();
const shot = (name: string) => screenshotFile(`${nr.version}-first-hour-${name}`);

describe(`Node-RED ${nr.version} in Chromium: the first hour after npm start`, function () {
  this.timeout(240000);
  let child: ChildProcess | undefined;
  let browser: Browser | undefined;
  let editor: Editor | undefined;
  let page: Page;
  let userDir = '';
  let output = '';

  before(async function () {
    const skip = browserSkipReason();
    if (skip) this.skip();
    const unsupported = unsupportedNode(nr);
    if (unsupported) throw new Error(unsupported);
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'openobd-first-hour-'));
    const port = await freePort();
    child = spawn(
      process.execPath,
      [
        path.join(ROOT, 'scripts', 'start.js'),
        '--no-build',
        nr.pkg === 'node-red' ? '--nr4' : '--nr5',
        '--port',
        String(port),
        '--userdir',
        userDir,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const url = `http://127.0.0.1:${port}/`;
    const deadline = Date.now() + 120000;
    while (
      !(await request(url, { timeoutMs: 2000 }).then(
        (r) => r.status === 200,
        () => false,
      ))
    ) {
      if (Date.now() > deadline) throw new Error(`npm start did not answer at ${url}:\n${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    browser = await launchChromium();
    editor = await openEditor(browser, url);
    page = editor.page;
    await page.setViewportSize({ width: 1366, height: 768 });
  });

  after(async function () {
    await editor?.close();
    await browser?.close().catch(() => undefined);
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child!.once('exit', r));
    }
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && page)
      await page.screenshot({ path: shot(`failed-${this.currentTest.title.slice(0, 30)}`) }).catch(() => undefined);
  });

  it("the simulator's tab is open by itself, and its title fits", async function () {
    await page.waitForFunction(() => $('.openobd-sim:visible').length > 0, null, { timeout: 30000 });
    // Its title as drawn: 'Simulator' on the tab (4.1), 'openOBD simulator' over the panel (5), never cut.
    const titles = await page.evaluate(() =>
      $('*:visible')
        .filter((_i: number, e: HTMLElement) => e.children.length === 0 && /^(openobd )?simulator$/i.test((e.textContent ?? '').trim()))
        .toArray()
        .map((e: HTMLElement) => ({ text: (e.textContent ?? '').trim(), cut: e.scrollWidth > e.clientWidth + 1 })),
    );
    assert.ok(titles.length > 0, 'the tab has a visible title');
    assert.deepEqual(
      titles.filter((x: { cut: boolean }) => x.cut),
      [],
      'the title is drawn whole',
    );
    await page.screenshot({ path: shot('simulator-tab') });
  });

  it('the palette manager is there: Menu > Manage palette opens it with its Install tab', async function () {
    await page.locator('#red-ui-header-button-sidemenu').click();
    const item = page.locator('#menu-item-edit-palette');
    await item.waitFor({ state: 'visible' });
    await item.click();
    await page.locator('#red-ui-settings-tab-palette, .red-ui-palette-editor').first().waitFor({ state: 'visible', timeout: 30000 });
    await page
      .getByText(/^install$/i)
      .first()
      .waitFor({ state: 'visible', timeout: 30000 });
    await page.screenshot({ path: shot('palette-manager') });
    // The settings tray closes like any tray.
    await page.evaluate(() => RED.tray.close());
    await page.waitForFunction(() => !$('#red-ui-header-shade').is(':visible') && $('.red-ui-tray').length === 0, null, { timeout: 10000 });
  });

  it('malformed bytes typed into send request: red at deploy with the reason in the debug sidebar, nothing started', async function () {
    const ecu = await page.evaluate(() => {
      let found: string | undefined;
      RED.nodes.eachConfig((n: any) => {
        if (!found && n.type === 'openobd-ecu') found = n.id;
      });
      return found as string;
    });
    const id = 'f1a0000000000001';
    await page.evaluate(
      ({ id, ecu }) => {
        const z = RED.workspaces.active();
        RED.view.importNodes(
          [
            {
              id,
              z,
              type: 'openobd-request',
              name: 'typo',
              ecu,
              request: '22 F1 9G',
              output: 'hex',
              negative: 'error',
              decode: true,
              outputs: 1,
              x: 300,
              y: 560,
              wires: [[]],
            },
          ],
          { generateIds: false },
        );
        RED.nodes.dirty(true);
      },
      { id, ecu },
    );
    const before = await request(page.url().replace(/\/?(#.*)?$/, '/') + 'openobd/simulator/view').then((r) => r.json<any>());
    // The editor flags the node and asks before deploying it; the user deploys anyway, as one would.
    await page.locator('#red-ui-header-button-deploy').click();
    await page.locator('#red-ui-deploy-dialog-confirm-deploy-deploy').click({ timeout: 30000 });
    const status = canvasNode(page, id).locator('.red-ui-flow-node-status-label');
    await page.waitForFunction(
      (nodeId) => $(`g.red-ui-flow-node-group[id="${nodeId}"] .red-ui-flow-node-status-label`).text().trim() === 'bad request bytes',
      id,
      { timeout: 30000 },
    );
    assert.equal(((await status.textContent()) ?? '').trim(), 'bad request bytes');
    const debug = await showDebugSidebar(page);
    await debug
      .locator('.red-ui-debug-msg', { hasText: 'The Request field of this node is not valid hex' })
      .first()
      .waitFor({ state: 'visible', timeout: 30000 });
    await page.screenshot({ path: shot('bad-request-at-deploy') });
    const after = await request(page.url().replace(/\/?(#.*)?$/, '/') + 'openobd/simulator/view').then((r) => r.json<any>());
    const sessions = (v: any) => (v.cars ?? []).filter((c: any) => c.session).length;
    assert.equal(sessions(after), sessions(before), 'the deploy started no session');
  });
});

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { SCREENSHOTS, browserSkipReason, launchChromium, screenshotFile } from '../support/browser';
import { deploy, importExample, openEditor, overlappingNodes, tabProblems, type Editor } from '../support/editor-page';
import { ROOT, nodeRedPackage, request, startNodeRed, unsupportedNode, type NodeRedServer } from '../support/nodered-server';

/*
 * Example 14, the workshop dashboard, on Dashboard 2.0 (@flowfuse/node-red-dashboard, a devDependency and in
 * the Node-RED 5 manifest, found by Node-RED next to itself as in `npm start`): imported from the editor's
 * menu and deployed, then used at /dashboard in Chromium as a person would, pressing its buttons.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const window: any;

const nr = nodeRedPackage();
const MODULE = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string }).name;
const EXAMPLE = fs
  .readdirSync(path.join(ROOT, 'examples'))
  .find((f) => f.startsWith('14 '))
  ?.replace(/\.json$/, '') as string;
type FlowNode = { id: string; type: string; label?: string };
const shipped = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', `${EXAMPLE}.json`), 'utf8')) as FlowNode[];
const chartIds = shipped.filter((n) => n.type === 'ui-chart').map((n) => n.id);
const shot = (name: string) => screenshotFile(`${nr.version}-dashboard-${name}`);

describe(`Node-RED ${nr.version} in Chromium: example 14, the workshop dashboard (Dashboard 2.0)`, function () {
  this.timeout(180000);
  let server: NodeRedServer;
  let browser: Browser | undefined;
  let editor: Editor | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  const pageErrors: string[] = [];

  before(async function () {
    const skip = browserSkipReason();
    if (skip) this.skip();
    const unsupported = unsupportedNode(nr);
    if (unsupported) throw new Error(unsupported);
    assert.ok(EXAMPLE, 'examples/14 *.json exists');
    // Screenshots of failures from an earlier run would only mislead.
    for (const f of fs.existsSync(SCREENSHOTS) ? fs.readdirSync(SCREENSHOTS) : []) {
      if (f.startsWith(`${nr.version}-dashboard-failed-`)) fs.rmSync(path.join(SCREENSHOTS, f), { force: true });
    }
    browser = await launchChromium();
    server = await startNodeRed();
  });

  after(async function () {
    await context?.close().catch(() => undefined);
    await editor?.close();
    await browser?.close().catch(() => undefined);
    await server?.stop();
  });

  afterEach(async function () {
    const failed = this.currentTest?.state === 'failed';
    const current = page ?? editor?.page;
    if (failed && current)
      await current.screenshot({ path: shot(`failed-${this.currentTest!.title.slice(0, 40)}`) }).catch(() => undefined);
  });

  /** The sessions the simulator's cars hold now, as the simulator sidebar shows them. */
  async function sessions(): Promise<Array<{ ticketId: string; state: string }>> {
    const view = (await request(`${server.url}openobd/simulator/view`)).json<{
      cars: Array<{ ticketId: string; session: { state: string } | null }>;
    }>();
    return view.cars.filter((c) => c.session).map((c) => ({ ticketId: c.ticketId, state: c.session!.state }));
  }

  async function waitForSessions(want: Array<{ ticketId: string; state: string }>, timeoutMs = 15000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let seen = await sessions();
    while (JSON.stringify(seen) !== JSON.stringify(want) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      seen = await sessions();
    }
    assert.deepEqual(seen, want);
  }

  /** Points per chart, read from the ECharts instance of each chart widget. */
  async function chartPoints(): Promise<number[]> {
    return page.evaluate(
      (ids) =>
        ids.map((id: string) => {
          const widget = window.uiCharts && window.uiCharts[id];
          const option = widget && widget.chart && widget.chart.getOption();
          return option ? option.series.reduce((sum: number, s: any) => sum + (s.data ? s.data.length : 0), 0) : -1;
        }),
      chartIds,
    );
  }

  function status() {
    return page.locator('.nrdb-ui-text', { hasText: 'Status' }).first();
  }

  it('imports from the menu with Dashboard 2.0 installed (no unknown or invalid node) and deploys', async function () {
    editor = await openEditor(browser as Browser, server.url);
    const mark = server.mark();
    const { tab, conflict } = await importExample(editor.page, MODULE, EXAMPLE);
    assert.equal(conflict, false, 'no "some nodes already exist" notification');
    assert.deepEqual(await tabProblems(editor.page, tab), []);
    assert.deepEqual(await overlappingNodes(editor.page, tab), [], 'no node covers another on the canvas');
    await deploy(editor.page);
    await editor.page.screenshot({ path: shot('editor') });
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(server.errorsSince(mark), [], 'Node-RED logged no error');
    assert.deepEqual(editor.pageErrors, []);
    await editor.close();
    editor = undefined;
  });

  it('/dashboard: "start session" starts one session (pressed twice, still one) and the charts get rpm, speed and coolant', async function () {
    context = await (browser as Browser).newContext({ viewport: { width: 1400, height: 1000 }, locale: 'en-US' });
    // Dashboard 2.0 keeps each chart widget in window.uiCharts (by node id) when window.Cypress is set: the
    // hook of its own end-to-end tests, the chart's data without reading pixels.
    await context.addInitScript(() => {
      window.Cypress = window.Cypress || {};
    });
    page = await context.newPage();
    page.setDefaultTimeout(30000);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${server.url}dashboard`, { waitUntil: 'domcontentloaded', timeout: 120000 });
    const start = page.getByRole('button', { name: 'start session' });
    await start.waitFor({ state: 'visible', timeout: 60000 });
    assert.match(page.url(), /\/dashboard\/workshop$/, 'the Workshop page is the first one');
    await page.waitForFunction((ids) => ids.every((id: string) => window.uiCharts && window.uiCharts[id]), chartIds);
    assert.deepEqual(await chartPoints(), [0, 0, 0], 'no points before a session');

    await start.click();
    await start.click();
    await status().filter({ hasText: 'session active on ticket 1002' }).waitFor({ state: 'visible' });
    await waitForSessions([{ ticketId: '1002', state: 'active' }]);

    await page
      .waitForFunction(
        (ids) =>
          ids.every((id: string) => {
            const option = window.uiCharts[id].chart.getOption();
            return option.series.length > 0 && option.series[0].data.length >= 3;
          }),
        chartIds,
        { timeout: 20000, polling: 250 },
      )
      .catch(async (err: Error) => {
        throw new Error(`the charts did not get 3 points each: ${JSON.stringify(await chartPoints())} (${err.message})`);
      });
    // The values and the series (the unit) behind each chart, as the chart holds them.
    const series = await page.evaluate(
      (ids) =>
        ids.map((id: string) => {
          const s = window.uiCharts[id].chart.getOption().series[0];
          return { name: s.name, values: s.data.map((d: any) => (Array.isArray(d) ? d[1] : d && d.value ? d.value[1] : d)) };
        }),
      chartIds,
    );
    assert.deepEqual(
      series.map((s) => s.name),
      ['rpm', 'km/h', '°C'],
    );
    assert.ok(
      series[0].values.every((v: number) => v > 600 && v < 1000),
      `idle rpm: ${JSON.stringify(series[0].values)}`,
    );
    assert.ok(
      series[1].values.every((v: number) => v === 0),
      `standing still: ${JSON.stringify(series[1].values)}`,
    );
    assert.ok(
      series[2].values.every((v: number) => typeof v === 'number' && v > -40 && v < 130),
      `coolant: ${JSON.stringify(series[2].values)}`,
    );
    // Drawn, not only held: each chart has its canvas and no "no data" placeholder.
    for (const id of chartIds) {
      await page.locator(`#nrdb-ui-widget-${id} canvas`).first().waitFor({ state: 'visible' });
    }
    await page.screenshot({ path: shot('live-data'), fullPage: true });
  });

  it('"read fault codes" (pressed twice) shows P0301 with "Cylinder 1 misfire detected" in the table', async function () {
    const read = page.getByRole('button', { name: 'read fault codes' });
    await read.click();
    await read.click();
    const row = page.locator('.nrdb-ui-table tbody tr', { hasText: 'P0301' }).first();
    await row.waitFor({ state: 'visible', timeout: 15000 });
    const text = ((await row.textContent()) || '').replace(/\s+/g, ' ');
    assert.match(text, /P0301-00/);
    assert.match(text, /Cylinder 1 misfire detected/);
    assert.match(text, /confirmed/);
    // The second read replaced the first: each code once.
    assert.equal(await page.locator('.nrdb-ui-table tbody tr', { hasText: 'P0301' }).count(), 1);
    await waitForSessions([{ ticketId: '1002', state: 'active' }]);
    await row.scrollIntoViewIfNeeded();
    await page.screenshot({ path: shot('fault-codes'), fullPage: true });
  });

  it('"end session" (pressed twice) finishes it: no session stays active, the charts stop, a read asks for a session', async function () {
    const end = page.getByRole('button', { name: 'end session' });
    await end.click();
    await end.click();
    await status().filter({ hasText: 'session finished' }).waitFor({ state: 'visible' });
    await waitForSessions([]);
    const after = await chartPoints();
    await new Promise((r) => setTimeout(r, 2500));
    assert.deepEqual(await chartPoints(), after, 'no more points once the session ended');
    await page.getByRole('button', { name: 'read fault codes' }).click();
    await status().filter({ hasText: 'start a session first' }).waitFor({ state: 'visible' });
    await page.screenshot({ path: shot('ended'), fullPage: true });
    await waitForSessions([]);
    assert.deepEqual(server.errorsSince(), [], 'Node-RED logged no error');
    assert.deepEqual(pageErrors, []);
  });
});

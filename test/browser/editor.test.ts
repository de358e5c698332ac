import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { SCREENSHOTS, browserSkipReason, launchChromium, screenshotFile } from '../support/browser';
import {
  FLOW_TYPES,
  addConfigNode,
  canvasLabel,
  clearDebug,
  canvasNode,
  clickInject,
  deploy,
  dragFromPalette,
  expectInvalid,
  expectValid,
  findNode,
  importExample,
  CONFIG_TYPES,
  msg,
  newFlowTab,
  nodesOutsideView,
  nodeState,
  openEditor,
  openNodeEditor,
  overlappingNodes,
  pressCancel,
  pressConfigDone,
  pressDone,
  showDebugSidebar,
  tabProblems,
  typeInto,
  typedInputField,
  type Editor,
} from '../support/editor-page';
import { ROOT, nodeRedPackage, startNodeRed, unsupportedNode, type NodeRedServer } from '../support/nodered-server';

/*
 * The editor in a real browser: headless Chromium (Debian package) driven by playwright-core, against a
 * Node-RED this suite starts with the package loaded (NR_PKG: node-red = 4.1, node-red-5 = 5.x).
 * Screenshots are written on every run to test-results/screenshots/<version>-*.png.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const RED: any;
declare const $: any;
declare const document: any;
declare const getComputedStyle: any;

const nr = nodeRedPackage();
const MODULE = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string }).name;
const EXAMPLES = fs
  .readdirSync(path.join(ROOT, 'examples'))
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => f.replace(/\.json$/, ''));
const READ_VIN = EXAMPLES.find((e) => /read the vin/i.test(e)) as string;
/** A small laptop screen: every example must fit the canvas there at zoom 1, palette and sidebar at their default widths. */
const SMALL_SCREEN = { width: 1366, height: 768 };
const VIN = 'WVWZZZAU6KW204711';
const shot = (name: string) => screenshotFile(`${nr.version}-${name}`);

describe(`Node-RED ${nr.version} in Chromium: the openOBD editor`, function () {
  this.timeout(180000);
  let server: NodeRedServer | undefined;
  let browser: Browser | undefined;
  let editor: Editor | undefined;
  let page: Page;
  /** The page of the running section, for the screenshot of a failure. */
  let current: Page | undefined;

  before(async function () {
    const skip = browserSkipReason();
    if (skip) {
      process.stdout.write(`      (skipped: ${skip})\n`);
      this.skip();
    }
    const unsupported = unsupportedNode(nr);
    if (unsupported) throw new Error(unsupported);
    // Screenshots of failures from an earlier run would only mislead.
    for (const f of fs.existsSync(SCREENSHOTS) ? fs.readdirSync(SCREENSHOTS) : []) {
      if (f.startsWith(`${nr.version}-failed-`)) fs.rmSync(path.join(SCREENSHOTS, f), { force: true });
    }
    browser = await launchChromium();
    server = await startNodeRed();
    editor = await openEditor(browser, server.url);
    page = editor.page;
    current = page;
  });

  after(async function () {
    await editor?.close();
    await browser?.close().catch(() => undefined);
    await server?.stop();
  });

  afterEach(async function () {
    const test = this.currentTest;
    if (test && test.state === 'failed' && current) {
      await current.screenshot({ path: shot(`failed-${test.title.slice(0, 60)}`), fullPage: false }).catch(() => undefined);
      const notes = server
        ? server
            .output()
            .split('\n')
            .filter((l) => /\[(warn|error)\]/.test(l) && !/Projects disabled|unencrypted credentials/.test(l))
            .slice(-15)
        : [];
      if (notes.length) process.stdout.write(`      Node-RED warnings and errors:\n${notes.map((l) => `        ${l}`).join('\n')}\n`);
    }
  });

  describe('palette', function () {
    it('shows every openOBD flow node in the openOBD category, with its label, its SVG icon and (5.x) the category description', async function () {
      const items = await page.evaluate((types: string[]) => {
        return types.map((t) => {
          const el = document.querySelector(`.red-ui-palette-node[data-palette-type="${t}"]`);
          if (!el) return { type: t, found: false };
          const icon = el.querySelector('.red-ui-palette-icon');
          return {
            type: t,
            found: true,
            category: el.closest('.red-ui-palette-category')?.id,
            label: el.textContent.replace(/\s+/g, ' ').trim(),
            icon: icon ? getComputedStyle(icon).backgroundImage : '',
          };
        });
      }, FLOW_TYPES);
      const labels: Record<string, string> = {
        'openobd-start-session': msg('openobd.paletteLabel.start'),
        'openobd-request': msg('openobd.paletteLabel.request'),
        'openobd-ask-technician': msg('openobd.paletteLabel.ask'),
        'openobd-dashboard-procedure': msg('openobd.paletteLabel.procedure'),
        'openobd-call-procedure': msg('openobd.paletteLabel.callProcedure'),
        'openobd-variables': msg('openobd.paletteLabel.variables'),
        'openobd-finish': msg('openobd.paletteLabel.finish'),
        'openobd-interrupt': msg('openobd.paletteLabel.interrupt'),
        'openobd-session-info': msg('openobd.paletteLabel.info'),
        'openobd-can-frames': msg('openobd.paletteLabel.frames'),
        'openobd-terminal15': msg('openobd.paletteLabel.terminal15'),
        'openobd-scan': msg('openobd.paletteLabel.scan'),
        'openobd-download': msg('openobd.paletteLabel.download'),
        'openobd-vehicle-info': msg('openobd.paletteLabel.vehicleInfo'),
      };
      for (const item of items as any[]) {
        assert.ok(item.found, `${item.type} is not in the palette`);
        assert.equal(item.category, 'red-ui-palette-container-openOBD', `${item.type} is in ${item.category}`);
        assert.equal(item.label, labels[item.type], `palette label of ${item.type}`);
        assert.match(item.icon, new RegExp(`icons/${MODULE.replace('/', '\\/')}/openobd-[a-z-]+\\.svg`), `icon of ${item.type}`);
      }
      // The icons are served and are SVG.
      const icons = await page.evaluate(
        async (urls: string[]) => {
          const out: string[] = [];
          for (const u of urls) {
            const r = await fetch(u);
            out.push(`${r.status} ${r.headers.get('content-type')}`);
          }
          return out;
        },
        (items as any[]).map((i) => /url\("?([^")]+)"?\)/.exec(i.icon)?.[1] as string),
      );
      for (const answer of icons) assert.match(answer, /^200 image\/svg\+xml/);
      const header = page.locator('#red-ui-palette-header-openOBD');
      await header.scrollIntoViewIfNeeded();
      await page.locator('#red-ui-palette-container-openOBD').screenshot({ path: shot('palette') });
      // Node-RED 5 shows the category's description when the mouse rests on its header (4.1 has none).
      if (Number(nr.version.split('.')[0]) >= 5) {
        await page.mouse.move(5, 5);
        await header.hover();
        const tip = page.locator('.red-ui-popover:visible').first();
        await tip.waitFor({ state: 'visible', timeout: 10000 });
        assert.equal((await tip.textContent())?.trim(), msg('openobd.category'));
        await page.mouse.move(700, 500);
      }
    });
  });

  describe('edit dialogs', function () {
    let tab: string;
    before(async function () {
      tab = await newFlowTab(page);
      assert.ok(tab);
    });
    beforeEach(async function () {
      // A failed test may have left its trays open.
      await closeTrays(page);
    });

    it('start session: account added with "+", the simulator tickets come from the runtime, a blank ticket is refused, a picked ticket saves', async function () {
      const id = await dragFromPalette(page, 'openobd-start-session', { x: 240, y: 80 });
      await openNodeEditor(page, id);
      // No account yet: the field is invalid until one is added with "+" (the simulator account by default).
      await expectInvalid(page, 'node-input-account');
      await addConfigNode(page, 'account');
      assert.equal(await page.locator('#node-config-input-mode').inputValue(), 'simulator');
      const accountId = await pressConfigDone(page, 'account');
      assert.ok(accountId && accountId !== '_ADD_', 'the new account is selected');
      await expectValid(page, 'node-input-account');

      // The built-in simulator's tickets, read from GET openobd/simulator (an admin endpoint).
      const choices = page.locator('#openobd-start-simulator-list button');
      await choices.first().waitFor({ state: 'visible' });
      assert.deepEqual(await choices.allTextContents(), ['1001', '1002', '1003', '2001', '2002']);

      // The ticket field is a TypedInput (str, num, msg, flow, global, env) with a hint.
      const target = typedInputField(page, 'node-input-target');
      assert.equal(await target.getAttribute('placeholder'), msg('openobd.placeholder.ticket'), 'the ticket field shows its hint');
      await page.locator('#node-input-targetType').selectOption('connector');
      assert.equal(await target.getAttribute('placeholder'), msg('openobd.placeholder.connector'), 'the hint follows "start on"');
      // Nothing is deployed yet, and still the simulator's connectors are offered: what settings.js configures.
      await choices.filter({ hasText: msg('openobd.picker.connectorN', { n: 3 }) }).waitFor({ state: 'visible' });
      assert.equal(await choices.count(), 5);
      await page.locator('#node-input-targetType').selectOption('ticket');
      await choices.first().waitFor({ state: 'visible' });
      await typeInto(target, '');
      await expectInvalid(page, 'node-input-target');
      await choices.filter({ hasText: '1002' }).click();
      await expectValid(page, 'node-input-target');
      await pressDone(page);

      const state = await nodeState(page, id);
      assert.equal(state.target, '1002');
      assert.equal(state.targetSource, 'str');
      assert.equal(state.account, accountId);
      assert.equal(state._valid, true);
      assert.equal(await canvasLabel(page, id), msg('openobd.nodeLabel.startOnTicket', { id: '1002' }));
    });

    it('openOBD account: a custom endpoint needs a plain host name, the client secret is a password credential, and it saves', async function () {
      const id = await dragFromPalette(page, 'openobd-start-session', { x: 240, y: 160 });
      await openNodeEditor(page, id);
      await addConfigNode(page, 'account');
      await page.locator('#node-config-input-mode').selectOption('custom');
      const host = page.locator('#node-config-input-host');
      await host.waitFor({ state: 'visible' });
      await typeInto(host, '');
      await expectInvalid(page, 'node-config-input-host', msg('openobd.validation.hostRequired'));
      await typeInto(host, 'https://grpc.example.com');
      await expectInvalid(page, 'node-config-input-host', msg('openobd.validation.hostScheme'));
      await typeInto(page.locator('#node-config-input-port'), '70000');
      await expectInvalid(page, 'node-config-input-port', msg('openobd.validation.port'));
      assert.equal(await page.locator('#node-config-input-clientSecret').getAttribute('type'), 'password');
      await typeInto(host, 'grpc.example.com');
      await expectValid(page, 'node-config-input-host');
      await typeInto(page.locator('#node-config-input-port'), '8443');
      await expectValid(page, 'node-config-input-port');
      await page.locator('#node-config-input-clientSecret').fill('s3cret-from-the-test');
      await page.locator('#node-config-input-name').fill('test endpoint');
      const accountId = await pressConfigDone(page, 'account');
      await pressDone(page);

      const account = await page.evaluate((aid) => {
        const a = RED.nodes.node(aid);
        return {
          mode: a.mode,
          host: a.host,
          port: String(a.port),
          valid: a.valid !== false,
          secretInDefaults: 'clientSecret' in a._def.defaults,
          credType: a._def.credentials.clientSecret.type,
        };
      }, accountId);
      assert.deepEqual(account, {
        mode: 'custom',
        host: 'grpc.example.com',
        port: '8443',
        valid: true,
        secretInDefaults: false,
        credType: 'password',
      });
      // Exporting the flow never carries the secret.
      const exported = await page.evaluate(() => JSON.stringify(RED.nodes.createCompleteNodeSet({ credentials: false })));
      assert.ok(!exported.includes('s3cret-from-the-test'), 'the client secret is not in an export');
      assert.equal(await canvasLabel(page, id), msg('openobd.nodeLabel.startOnTicket', { id: '1001' }));
    });

    it('ECU: the presets fill the addressing, request id "XYZ" is refused with the reason, a valid id saves', async function () {
      const id = await dragFromPalette(page, 'openobd-request', { x: 480, y: 80 });
      await openNodeEditor(page, id);
      await addConfigNode(page, 'ecu');
      const preset = page.locator('#node-config-input-preset');
      assert.equal(await preset.inputValue(), 'engine');
      assert.equal(await page.locator('#node-config-input-requestId').inputValue(), '7E0');
      assert.deepEqual(await preset.locator('option').evaluateAll((os: any[]) => os.map((o) => o.value)), [
        'engine',
        'transmission',
        'obd-functional',
        'abs',
        'tp20-engine',
        'kline-airbag',
        'kline-instruments',
        'doip-gateway',
        'custom',
      ]);
      await preset.selectOption('obd-functional');
      assert.equal(await page.locator('#node-config-input-requestId').inputValue(), '7DF');
      assert.equal(await page.locator('#node-config-input-functional').isChecked(), true);
      assert.equal(await page.locator('#node-config-input-responderIds').inputValue(), '7E8-7EF');
      await preset.selectOption('transmission');
      assert.equal(await page.locator('#node-config-input-requestId').inputValue(), '7E1');
      assert.equal(await page.locator('#node-config-input-responseId').inputValue(), '7E9');
      assert.equal(await page.locator('#node-config-input-name').inputValue(), msg('openobd.presetName.transmission'));

      await assertCheckboxLabelReadable(page, 'node-config-input-functional');
      await typeInto(page.locator('#node-config-input-requestId'), 'XYZ');
      await expectInvalid(page, 'node-config-input-requestId', msg('openobd.validation.canId', { value: 'XYZ' }));
      assert.equal(await preset.inputValue(), 'custom', 'editing an id by hand switches the preset to custom');
      await typeInto(page.locator('#node-config-input-pinMinus'), '6');
      await expectInvalid(page, 'node-config-input-pinMinus', msg('openobd.validation.pinsEqual'));
      await typeInto(page.locator('#node-config-input-pinMinus'), '14');
      await typeInto(page.locator('#node-config-input-requestId'), '0x7e0');
      await expectValid(page, 'node-config-input-requestId');
      await typeInto(page.locator('#node-config-input-responseId'), '7e8');
      await page.locator('#node-config-input-name').fill('Engine');
      const ecuId = await pressConfigDone(page, 'ecu');
      await pressDone(page);

      const ecu = await page.evaluate((eid) => {
        const e = RED.nodes.node(eid);
        return { name: e.name, requestId: e.requestId, responseId: e.responseId, pinMinus: String(e.pinMinus), valid: e.valid !== false };
      }, ecuId);
      assert.deepEqual(ecu, { name: 'Engine', requestId: '7E0', responseId: '7E8', pinMinus: '14', valid: true });
    });

    it('ECU transports: a K-Line preset shows the K-Line fields only, a DoIP id over 16 bits is refused, the CAN ids do not matter there', async function () {
      const id = await dragFromPalette(page, 'openobd-request', { x: 480, y: 240 });
      await openNodeEditor(page, id);
      await addConfigNode(page, 'ecu');
      const preset = page.locator('#node-config-input-preset');
      await preset.selectOption('kline-airbag');
      assert.equal(await page.locator('#node-config-input-transport').inputValue(), 'kline');
      assert.equal(await page.locator('#node-config-input-klineAddress').inputValue(), '15');
      assert.equal(await page.locator('#node-config-input-busName').inputValue(), 'K-LINE', 'the bus name follows the transport');
      assert.equal(await page.locator('#node-config-input-klineAddress').isVisible(), true);
      assert.equal(await page.locator('#node-config-input-requestId').isVisible(), false, 'no CAN ids on the K-Line');
      assert.equal(await page.locator('#node-config-input-pinPlus').isVisible(), false);
      await typeInto(page.locator('#node-config-input-keyBytes'), 'EF');
      await expectInvalid(page, 'node-config-input-keyBytes', msg('openobd.validation.keyBytes'));
      await typeInto(page.locator('#node-config-input-keyBytes'), 'ef 8f');
      await expectValid(page, 'node-config-input-keyBytes');
      await preset.selectOption('doip-gateway');
      assert.equal(await page.locator('#node-config-input-gatewayId').isVisible(), true);
      await typeInto(page.locator('#node-config-input-doipEcuId'), '10000');
      await expectInvalid(
        page,
        'node-config-input-doipEcuId',
        msg('openobd.validation.addressRange', { value: '10000', min: '0001', max: 'FFFF' }),
      );
      assert.equal(await preset.inputValue(), 'custom');
      await typeInto(page.locator('#node-config-input-doipEcuId'), '4011');
      await page.locator('#node-config-input-requestId').evaluate((el: HTMLInputElement) => (el.value = 'XYZ')); // hidden and unused on DoIP
      const ecuId = await pressConfigDone(page, 'ecu');
      await pressDone(page);
      const ecu = await page.evaluate((eid) => {
        const e = RED.nodes.node(eid);
        return {
          transport: e.transport,
          doipEcuId: e.doipEcuId,
          busName: e.busName,
          valid: e.valid !== false,
          label: RED.utils.getNodeLabel(e),
        };
      }, ecuId);
      assert.deepEqual(ecu, {
        transport: 'doip',
        doipEcuId: '4011',
        busName: 'DOIP',
        valid: true,
        label: msg('openobd.presetName.doip-gateway'),
      });
    });

    it('send request: "22F19" is refused with the reason, "Read VIN" is one click away, and the label reads "22 F190 → Engine"', async function () {
      const id = await dragFromPalette(page, 'openobd-request', { x: 480, y: 160 });
      await openNodeEditor(page, id);
      const ecuField = page.locator('#node-input-ecu');
      const engine = await page.evaluate(() => {
        let found: string | null = null;
        RED.nodes.eachConfig((c: any) => {
          if (c.type === 'openobd-ecu' && c.name === 'Engine') found = c.id;
        });
        return found;
      });
      assert.ok(engine, 'the ECU saved by the previous test exists');
      await ecuField.selectOption(engine as string);

      const request = page.locator('#node-input-request');
      assert.equal(await request.getAttribute('placeholder'), msg('openobd.placeholder.request'));
      await typeInto(request, '22F19');
      await expectInvalid(page, 'node-input-request', msg('openobd.validation.hexOdd', { count: 5 }));
      await typeInto(request, '22 G1 90');
      await expectInvalid(page, 'node-input-request', msg('openobd.validation.hexChar', { char: 'G' }));
      await typeInto(page.locator('#node-input-timeout'), '-5');
      await expectInvalid(page, 'node-input-timeout', msg('openobd.validation.timeout', { fallback: 5000 }));
      await typeInto(page.locator('#node-input-timeout'), '');
      await expectValid(page, 'node-input-timeout');

      // The common requests are one click away.
      const common = page.locator('#openobd-request-common-uds button');
      assert.ok((await common.allTextContents()).includes(msg('openobd.common.readDtcs')));
      assert.ok((await page.locator('#openobd-request-common-obd button').count()) >= 4);
      await common.filter({ hasText: new RegExp(`^${msg('openobd.common.readVin')}$`) }).click();
      assert.equal(await request.inputValue(), '22 F1 90');
      await expectValid(page, 'node-input-request');
      // Typed hex is tidied into byte pairs.
      await typeInto(request, '19 02ff');
      assert.equal(await request.inputValue(), '19 02 FF');
      await common.filter({ hasText: new RegExp(`^${msg('openobd.common.readVin')}$`) }).click();

      await assertCheckboxLabelReadable(page, 'node-input-decode');
      // Negative answers on a second output: the node grows a port.
      await page.locator('#node-input-negative').selectOption('output');
      await page
        .locator('.red-ui-tray')
        .first()
        .screenshot({ path: shot('dialog') });
      await pressDone(page);

      const state = await nodeState(page, id);
      assert.equal(state.request, '22 F1 90');
      assert.equal(state.ecu, engine);
      assert.equal(Number(state.outputs), 2);
      assert.equal(state._valid, true);
      assert.equal(await canvasLabel(page, id), '22 F190 \u2192 Engine');
      assert.equal(await page.locator(`g.red-ui-flow-node-group[id="${id}"] .red-ui-flow-port-output`).count(), 2);
    });

    it('finish: the description is a TypedInput that refuses a broken msg property, the result is a choice, the label shows it', async function () {
      const id = await dragFromPalette(page, 'openobd-finish', { x: 720, y: 80 });
      await openNodeEditor(page, id);
      const description = typedInputField(page, 'node-input-description');
      assert.equal(await description.getAttribute('placeholder'), msg('openobd.placeholder.description'));
      await page.evaluate(() => $('#node-input-description').typedInput('type', 'msg'));
      await typeInto(description, 'payload..text');
      await expectInvalid(page, 'node-input-description');
      await typeInto(description, 'payload.text');
      await expectValid(page, 'node-input-description');
      await page.locator('#node-input-result').selectOption('RESULT_SUCCESS');
      await pressDone(page);
      const state = await nodeState(page, id);
      assert.deepEqual(
        [state.result, state.description, state.descriptionSource, state._valid],
        ['RESULT_SUCCESS', 'payload.text', 'msg', true],
      );
      assert.equal(await canvasLabel(page, id), msg('openobd.nodeLabel.finishWith', { result: 'SUCCESS' }));
    });

    it('start session, send request and finish: every select shows the whole text of any option chosen', async function () {
      const seen: string[] = [];
      for (const [type, at] of [
        ['openobd-start-session', { x: 240, y: 320 }],
        ['openobd-request', { x: 480, y: 320 }],
        ['openobd-finish', { x: 720, y: 320 }],
      ] as const) {
        const id = await dragFromPalette(page, type, at);
        await openNodeEditor(page, id);
        seen.push(
          ...(await page.evaluate(() =>
            [...document.querySelectorAll('.red-ui-tray select')].filter((s: any) => s.offsetParent).map((s: any) => s.id),
          )),
        );
        assert.deepEqual(await cutSelectTexts(page), [], `the selects of ${type} show their texts`);
        if (type === 'openobd-start-session')
          await page
            .locator('.red-ui-tray')
            .first()
            .screenshot({ path: shot('start-dialog') });
        await pressCancel(page);
      }
      // The long ones the issue named are among them.
      for (const select of ['node-input-ifHeld', 'node-input-result', 'node-input-negative'])
        assert.ok(seen.includes(select), `${select} was measured`);
    });

    it('help: code samples wrap inside the help sidebar, nothing is cut on the right', async function () {
      const cut: string[] = [];
      for (const type of [...FLOW_TYPES, ...CONFIG_TYPES]) {
        cut.push(
          ...(await page.evaluate((t) => {
            RED.sidebar.help.show(t); // renders at once
            const help = [...document.querySelectorAll('.red-ui-help')].find(
              (h: any) => h.offsetParent && h.querySelector('a[href^="https://docs.openobd.com"]'),
            );
            if (!help) return [`${t}: no help shown`];
            const right = Math.min(
              help.getBoundingClientRect().right,
              document.getElementById('red-ui-sidebar').getBoundingClientRect().right,
            );
            const out: string[] = [];
            for (const el of help.querySelectorAll('*')) {
              const r = el.getBoundingClientRect();
              if (r.width > 0 && (r.right > right + 1 || el.scrollWidth > el.clientWidth + 1))
                out.push(
                  `${t}: <${el.tagName.toLowerCase()}> "${el.textContent.trim().slice(0, 50)}" ends ${Math.round(r.right - right)} px past the panel`,
                );
            }
            return out;
          }, type)),
        );
        if (type === 'openobd-request') {
          const sample = page.locator('.red-ui-help code', { hasText: 'requestId: "7E0", responseId: "7E8"' }).first();
          await sample.scrollIntoViewIfNeeded();
          assert.ok(await sample.isVisible(), 'the long code sample of the request help is shown');
          await page.locator('#red-ui-sidebar').screenshot({ path: shot('help') });
        }
      }
      assert.deepEqual(cut, []);
    });

    it('interrupt: the session id is a TypedInput, live sessions are listed from the runtime, a broken msg property is refused', async function () {
      const id = await dragFromPalette(page, 'openobd-interrupt', { x: 720, y: 160 });
      await openNodeEditor(page, id);
      // One account exists per kind here; make sure the simulator one is selected.
      await selectSimulatorAccount(page);
      await page
        .locator('.openobd-interrupt-live .openobd-picker-empty', { hasText: msg('openobd.picker.noSessions') })
        .waitFor({ state: 'visible' });
      const sessionId = typedInputField(page, 'node-input-sessionId');
      await page.evaluate(() => $('#node-input-sessionId').typedInput('type', 'msg'));
      await typeInto(sessionId, 'openobd.');
      await expectInvalid(page, 'node-input-sessionId');
      await typeInto(sessionId, 'openobd.sessionId');
      await expectValid(page, 'node-input-sessionId');
      await pressDone(page);
      const state = await nodeState(page, id);
      assert.deepEqual([state.sessionId, state.sessionIdSource, state._valid], ['openobd.sessionId', 'msg', true]);
      assert.equal(await canvasLabel(page, id), msg('openobd.nodeLabel.interruptId', { id: 'msg.openobd.sessionId' }));
    });

    it('session info: "list" hides the session id, "get" validates it, the label follows the action', async function () {
      const id = await dragFromPalette(page, 'openobd-session-info', { x: 960, y: 80 });
      await openNodeEditor(page, id);
      await selectSimulatorAccount(page);
      await page.locator('#node-input-action').selectOption('get');
      await page.evaluate(() => $('#node-input-sessionId').typedInput('type', 'flow'));
      const sessionId = typedInputField(page, 'node-input-sessionId');
      await typeInto(sessionId, 'sessions[');
      await expectInvalid(page, 'node-input-sessionId');
      await page.locator('#node-input-action').selectOption('list');
      await page.locator('#node-input-sessionId').locator('xpath=ancestor::div[contains(@class,"form-row")]').waitFor({ state: 'hidden' });
      await pressDone(page);
      const state = await nodeState(page, id);
      assert.equal(state.action, 'list');
      assert.equal(state._valid, true, 'with "list" the session id is not used, so it does not make the node invalid');
      assert.equal(await canvasLabel(page, id), msg('openobd.nodeLabel.list'));
    });

    it('left no uncaught error in the page', function () {
      assert.deepEqual(editor?.pageErrors, []);
    });
  });

  describe('examples', function () {
    let examplesEditor: Editor;
    let xpage: Page;
    const tabs: Record<string, string> = {};

    before(async function () {
      // A fresh editor, as a user who just installed the package: nothing deployed, nothing edited, on a small screen.
      examplesEditor = await openEditor(browser as Browser, (server as NodeRedServer).url, { viewport: SMALL_SCREEN });
      xpage = examplesEditor.page;
      current = xpage;
    });
    after(async function () {
      await examplesEditor?.close();
    });

    it('lists all fourteen examples under Import > Examples', async function () {
      assert.equal(EXAMPLES.length, 14);
      await xpage.locator('#red-ui-header-button-sidemenu').click();
      await xpage.locator('#menu-item-import').click();
      await xpage.locator('a[href="#red-ui-clipboard-dialog-import-tab-examples"]').click();
      const pane = xpage.locator('#red-ui-clipboard-dialog-import-tab-examples');
      await pane.locator('.red-ui-treeList-label').filter({ hasText: MODULE }).first().click();
      for (const e of EXAMPLES) await pane.getByText(e, { exact: true }).waitFor({ state: 'visible' });
      await xpage.locator('#red-ui-clipboard-dialog-cancel').click();
      await xpage.locator('#red-ui-clipboard-dialog-cancel').waitFor({ state: 'hidden' });
    });

    for (const example of EXAMPLES) {
      it(`imports "${example}" from the menu into a tab of that name, all in sight at 1366x768, and deploys it cleanly`, async function () {
        const mark = (server as NodeRedServer).mark();
        const { tab, conflict } = await importExample(xpage, MODULE, example);
        tabs[example] = tab;
        // The examples share one account and their ECUs: importing another one asks nothing.
        assert.equal(conflict, false, 'no "some nodes already exist" notification');
        const shipped = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', `${example}.json`), 'utf8')) as Array<{
          type: string;
          x?: number;
        }>;
        const onTab = await xpage.evaluate((z) => RED.nodes.filterNodes({ z }).length, tab);
        assert.equal(onTab, shipped.filter((n) => n.x !== undefined).length, 'every flow node of the example is on the new tab');
        assert.deepEqual(await tabProblems(xpage, tab), []);
        // It lands in a tab of its own name, with every node in sight at zoom 1 without scrolling.
        assert.equal(await xpage.evaluate((z) => RED.nodes.workspace(z).label, tab), example, 'the tab is named after the example');
        assert.equal(
          ((await xpage.locator(`#red-ui-tab-${tab} .red-ui-tab-label`).textContent()) || '').trim(),
          example,
          'the tab bar shows the name',
        );
        const view = await xpage.evaluate(() => {
          const chart = document.getElementById('red-ui-workspace-chart');
          return {
            scale: RED.view.scale(),
            scroll: [chart.scrollLeft, chart.scrollTop],
            palette: document.getElementById('red-ui-palette').offsetWidth,
            sidebar: document.getElementById('red-ui-sidebar').offsetWidth,
          };
        });
        assert.deepEqual(
          [view.scale, view.scroll],
          [1, [0, 0]],
          `the new tab shows at zoom 1, unscrolled (palette ${view.palette} px, sidebar ${view.sidebar} px)`,
        );
        assert.deepEqual(await nodesOutsideView(xpage, tab), [], `every node is in sight at ${SMALL_SCREEN.width}x${SMALL_SCREEN.height}`);
        assert.deepEqual(await overlappingNodes(xpage, tab), [], 'no node covers another on the canvas');
        await deploy(xpage);
        // One shared account, however many examples were imported.
        const accounts = await xpage.evaluate(() => {
          let n = 0;
          RED.nodes.eachConfig((c: any) => {
            if (c.type === 'openobd-account') n += 1;
          });
          return n;
        });
        assert.equal(accounts, 1, 'the examples share one account config node');
        // The runtime started the flow: the nodes with an account show its state (ready), none shows an error.
        await xpage
          .waitForFunction(
            (z) => {
              const withAccount = RED.nodes.filterNodes({ z }).filter((n: any) => n.type.startsWith('openobd-') && n.account);
              return withAccount.length > 0 && withAccount.every((n: any) => n.status && n.status.fill === 'green');
            },
            tab,
            { timeout: 60000, polling: 250 },
          )
          .catch(async () => {
            const statuses = await xpage.evaluate(
              (z) =>
                RED.nodes
                  .filterNodes({ z })
                  .filter((n: any) => n.type.startsWith('openobd-'))
                  .map((n: any) => `${n.type}: ${JSON.stringify(n.status || null)}`),
              tab,
            );
            throw new Error(`the openOBD nodes did not report a ready account:\n  ${statuses.join('\n  ')}`);
          });
        // The statuses under the nodes (each account's "ready", a procedure's "online") are in sight and cover nothing.
        assert.ok((await shownStatuses(xpage, tab)) > 0, 'the deployed example shows statuses');
        assert.deepEqual(await overlappingNodes(xpage, tab), [], 'no status runs into a node or another status');
        assert.deepEqual(await nodesOutsideView(xpage, tab), [], 'every node and its status is in sight');
        assert.deepEqual((server as NodeRedServer).errorsSince(mark), [], 'Node-RED logged no error');
        // One deploy keeps a new procedure's identity: no note asks for another.
        assert.equal(
          await xpage
            .locator('.red-ui-notification:visible', { hasText: /deploy/i })
            .filter({ hasNotText: /deployed/i })
            .count(),
          0,
        );
        await xpage.waitForFunction(() => $('.red-ui-notification:visible').length === 0, null, { timeout: 10000 }).catch(() => undefined);
        await xpage.screenshot({ path: shot(`example-${example.slice(0, 2)}`) });
        if (example === READ_VIN) await xpage.screenshot({ path: shot('example') });
      });

      if (example === READ_VIN) {
        it('read-VIN example: its Inject button shows the VIN in the debug sidebar within seconds', async function () {
          const tab = tabs[READ_VIN];
          assert.ok(tab, 'the read-VIN example was imported');
          const inject = await findNode(xpage, tab, 'inject', 'read VIN');
          const pane = await showDebugSidebar(xpage);
          await clearDebug(xpage);
          const started = Date.now();
          await clickInject(xpage, inject);
          const message = pane.locator('.red-ui-debug-msg', { hasText: VIN }).first();
          await message.waitFor({ state: 'visible', timeout: 15000 });
          const seconds = (Date.now() - started) / 1000;
          // Open the object so the screenshot shows the decoded details.
          await message
            .locator('.red-ui-debug-msg-object-header, .red-ui-debug-msg-element')
            .first()
            .click()
            .catch(() => undefined);
          await xpage.screenshot({ path: shot('debug') });
          assert.ok(seconds < 15, `VIN shown after ${seconds} s`);
          const errors = await pane.locator('.red-ui-debug-msg-level-error').count();
          assert.equal(errors, 0, 'no error message in the debug sidebar');
          // The session was finished: the finish node reports it.
          await pane.locator('.red-ui-debug-msg', { hasText: 'finished' }).first().waitFor({ state: 'visible', timeout: 15000 });
          // The statuses a run leaves (the session's id, finished) cover nothing either.
          assert.deepEqual(await overlappingNodes(xpage, tab), [], 'no status of the run runs into a node or another status');
        });
      }
    }

    it('left no uncaught error in the page', function () {
      assert.deepEqual(examplesEditor.pageErrors, []);
    });
  });

  describe('Node-RED 5 dark theme', function () {
    let dark: Editor | undefined;
    before(async function () {
      if (Number(nr.version.split('.')[0]) < 5) {
        process.stdout.write(`      (skipped: Node-RED ${nr.version} has no built-in dark theme)\n`);
        this.skip();
      }
      dark = await openEditor(browser as Browser, (server as NodeRedServer).url, { dark: true });
      current = dark.page;
    });
    after(async function () {
      await dark?.close();
    });

    it('the request dialog and the debug result are readable in the dark theme', async function () {
      const dpage = (dark as Editor).page;
      assert.equal(
        await dpage.evaluate(() => document.documentElement.classList.contains('nr-theme-dark')),
        true,
        'the editor is in its dark theme',
      );
      // The read-VIN example was deployed by the examples suite: find its request node.
      const requestId = await dpage.evaluate(() => {
        const n = RED.nodes.filterNodes({ type: 'openobd-request' }).find((x: any) => x.name === 'request VIN (22 F1 90)');
        return n ? n.id : null;
      });
      assert.ok(requestId, 'the read-VIN example is deployed');
      await openNodeEditor(dpage, requestId as string);
      await dpage.locator('#openobd-request-common-uds button').first().waitFor({ state: 'visible' });
      const colours = await dpage.evaluate(() => {
        const lum = (css: string) => {
          const m = /rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?/.exec(css);
          if (!m) return -1;
          if (m[4] !== undefined && Number(m[4]) === 0) return -2; // transparent
          const [r, g, b] = [m[1], m[2], m[3]].map((v) => {
            const c = Number(v) / 255;
            return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
          });
          return 0.2126 * r + 0.7152 * g + 0.0722 * b;
        };
        // The colour behind an element: its own background, else the first ancestor's that is not transparent.
        const background = (sel: string) => {
          let el = document.querySelector(sel);
          while (el) {
            const l = lum(getComputedStyle(el).backgroundColor);
            if (l >= 0) return l;
            el = el.parentElement;
          }
          return -1;
        };
        const text = (sel: string) => lum(getComputedStyle(document.querySelector(sel)).color);
        return {
          tray: background('#node-input-request'),
          choiceText: text('#openobd-request-common-uds button'),
          choiceBackground: background('#openobd-request-common-uds button'),
          labelText: text('label[for="node-input-request"]'),
          tipsText: text('.form-tips'),
          tipsBackground: background('.form-tips'),
          inputText: text('#node-input-request'),
          inputBackground: background('#node-input-request'),
        };
      });
      assert.ok(colours.tray >= 0 && colours.tray < 0.1, `dark dialog background (luminance ${colours.tray})`);
      assert.ok(
        colours.tipsText > 0.3 && colours.tipsBackground < 0.1,
        `light text on dark tips (${colours.tipsText} on ${colours.tipsBackground})`,
      );
      assert.ok(colours.labelText > 0.3, `light label text (luminance ${colours.labelText})`);
      assert.ok(colours.choiceText > 0.3, `light text on the one-click request buttons (luminance ${colours.choiceText})`);
      assert.ok(colours.choiceBackground < 0.1, `dark one-click request buttons (luminance ${colours.choiceBackground})`);
      assert.ok(
        colours.inputText > 0.3 && colours.inputBackground < 0.1,
        `light text on a dark request field (${colours.inputText} on ${colours.inputBackground})`,
      );
      await dpage
        .locator('.red-ui-tray')
        .first()
        .screenshot({ path: shot('dark-dialog') });
      await dpage.locator('#node-dialog-cancel').click();
      await dpage.locator('#node-dialog-cancel').waitFor({ state: 'detached' });

      const inject = await dpage.evaluate(() => {
        const n = RED.nodes.filterNodes({ type: 'inject' }).find((x: any) => x.name === 'read VIN');
        return n ? n.id : null;
      });
      const pane = await showDebugSidebar(dpage);
      await clearDebug(dpage);
      await clickInject(dpage, inject as string);
      const message = pane.locator('.red-ui-debug-msg', { hasText: VIN }).first();
      await message.waitFor({ state: 'visible', timeout: 15000 });
      const debugColours = await dpage.evaluate(() => {
        const el = document.querySelector('.red-ui-debug-msg');
        return {
          background: getComputedStyle(el).backgroundColor,
          text: getComputedStyle(el.querySelector('.red-ui-debug-msg-payload') || el).color,
        };
      });
      assert.notEqual(debugColours.background, 'rgb(255, 255, 255)', 'the debug message is not on white');
      await dpage.screenshot({ path: shot('dark-debug') });
      assert.deepEqual((dark as Editor).pageErrors, []);
    });
  });

  describe('German editor', function () {
    let de: Editor | undefined;
    before(async function () {
      de = await openEditor(browser as Browser, (server as NodeRedServer).url, { locale: 'de-DE' });
      current = de.page;
    });
    after(async function () {
      await de?.close();
    });

    it('a browser set to German gets the palette, the dialog, the validator reasons and the help in German', async function () {
      const dpage = (de as Editor).page;
      const t = (key: string, subs: Record<string, string | number> = {}) => msg(key, subs, 'de');
      const label = (await dpage.locator('.red-ui-palette-node[data-palette-type="openobd-request"]').textContent())
        ?.replace(/\s+/g, ' ')
        .trim();
      assert.equal(label, t('openobd.paletteLabel.request'));
      const requestId = await dpage.evaluate(() => {
        const n = RED.nodes.filterNodes({ type: 'openobd-request' }).find((x: any) => x.name === 'request VIN (22 F1 90)');
        return n ? n.id : null;
      });
      assert.ok(requestId, 'the read-VIN example is deployed');
      await openNodeEditor(dpage, requestId as string);
      assert.equal((await dpage.locator('label[for="node-input-request"]').textContent())?.trim(), t('openobd.label.request'));
      assert.ok((await dpage.locator('#openobd-request-common-uds button').allTextContents()).includes(t('openobd.common.readVin')));
      await typeInto(dpage.locator('#node-input-request'), '22F19');
      await expectInvalid(dpage, 'node-input-request', t('openobd.validation.hexOdd', { count: 5 }));
      await dpage
        .locator('.red-ui-tray')
        .first()
        .screenshot({ path: shot('de-dialog') });
      await dpage.locator('#node-dialog-cancel').click();
      await dpage.locator('#node-dialog-cancel').waitFor({ state: 'detached' });
      // The help sidebar shows the German help, with its sections.
      await dpage.evaluate(() => RED.sidebar.help.show('openobd-request'));
      const help = dpage.locator('.red-ui-help').filter({ hasText: 'Eingänge' }).first();
      await help.waitFor({ state: 'visible' });
      assert.match((await help.textContent()) || '', /Ausgänge[\s\S]*Details[\s\S]*Referenzen/);
      assert.deepEqual((de as Editor).pageErrors, []);
    });

    it('a status in the user\'s words, in the browser\'s language: an unknown ticket shows "Ticket unbekannt" under the node', async function () {
      const dpage = (de as Editor).page;
      // The error-handling example (05) was deployed by the examples suite.
      const ids = await dpage.evaluate(() => {
        const inject = RED.nodes.filterNodes({ type: 'inject' }).find((x: any) => x.name === 'unknown ticket');
        const link = inject ? RED.nodes.filterLinks({ source: inject })[0] : undefined;
        return inject && link ? { inject: inject.id as string, start: link.target.id as string } : null;
      });
      assert.ok(ids, 'example 05 is deployed');
      await clickInject(dpage, ids.inject);
      const status = canvasNode(dpage, ids.start).locator('.red-ui-flow-node-status-label');
      await status
        .filter({ hasText: msg('openobd.status.situations.unknownTicket', {}, 'de') })
        .waitFor({ state: 'visible', timeout: 15000 });
      await dpage.screenshot({ path: shot('de-status') });
    });
  });
});

/** A checkbox's label is laid out beside it across the row (not squeezed to a word per line). */
async function assertCheckboxLabelReadable(page: Page, checkboxId: string): Promise<void> {
  const box = await page.locator(`label[for="${checkboxId}"]`).boundingBox();
  const row = await page.locator(`#${checkboxId}`).locator('xpath=ancestor::div[contains(@class,"form-row")][1]').boundingBox();
  assert.ok(box && row, `the label of #${checkboxId} is visible`);
  assert.ok(
    box.width > row.width * 0.5,
    `the label of #${checkboxId} is ${Math.round(box.width)} px wide in a ${Math.round(row.width)} px row`,
  );
  assert.ok(box.height < 70, `the label of #${checkboxId} is ${Math.round(box.height)} px high (three lines at most)`);
}

/** Cancels every open edit tray (config node trays first). */
async function closeTrays(page: Page): Promise<void> {
  for (let i = 0; i < 5; i++) {
    const open = await page.evaluate(() => $('.red-ui-tray').length);
    if (!open) return;
    const cancel = page.locator('#node-config-dialog-cancel, #node-dialog-cancel').first();
    await cancel.click({ timeout: 5000 }).catch(() => undefined);
    await page.waitForFunction((n) => $('.red-ui-tray').length < n, open, { timeout: 5000 }).catch(() => undefined);
  }
}

/** Selects the built-in simulator account in the open dialog's account field. */
async function selectSimulatorAccount(page: Page): Promise<void> {
  const id = await page.evaluate(() => {
    let found: string | null = null;
    RED.nodes.eachConfig((c: any) => {
      if (c.type === 'openobd-account' && (c.mode || 'simulator') === 'simulator') found = found || c.id;
    });
    return found;
  });
  assert.ok(id, 'a simulator account exists (added by the start session test)');
  await page.locator('#node-input-account').selectOption(id as string);
  await page.locator('#node-input-account').dispatchEvent('change');
}

/** How many nodes of the tab show a status under them. */
async function shownStatuses(page: Page, tab: string): Promise<number> {
  return page.evaluate(
    (z) =>
      RED.nodes.filterNodes({ z }).filter((n: any) => {
        const group = document.getElementById(n.id)?.querySelector('.red-ui-flow-node-status-group');
        return n.status && n.status.text && group && group.style.display !== 'none';
      }).length,
    tab,
  );
}

/**
 * Every option of each visible select of the open dialog, as the select shows it when chosen: its text's width
 * (in the select's font) against the room inside the select (its width less padding and the drop-down arrow).
 */
async function cutSelectTexts(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const ARROW = 20; // Chromium's drop-down arrow and its margin
    const ctx = document.createElement('canvas').getContext('2d');
    const cut: string[] = [];
    for (const select of document.querySelectorAll('.red-ui-tray select')) {
      if (!select.offsetParent) continue;
      const style = getComputedStyle(select);
      ctx.font = style.font;
      const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - ARROW;
      for (const option of select.options) {
        const width = ctx.measureText(option.text).width;
        if (width > room) cut.push(`#${select.id} "${option.text}": ${Math.round(width)} px of text in ${Math.round(room)} px`);
      }
    }
    return cut;
  });
}

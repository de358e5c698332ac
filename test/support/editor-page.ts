import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { ROOT } from './nodered-server';

/*
 * Helpers that drive the Node-RED editor (4.1 and 5.x) the way a person does: palette drag, double-click,
 * typing, Done, the Import dialog, Deploy, the Inject button, the debug sidebar. Functions passed to
 * page.evaluate/waitForFunction run in the browser, where RED, $ and the DOM exist.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const RED: any;
declare const $: any;
declare const document: any;
declare const window: any;
declare const localStorage: any;

export { CONFIG_TYPES, FLOW_TYPES } from './node-types';

const catalogs: Record<string, Record<string, unknown>> = {};
/** A message of the catalog as shipped: msg('openobd.validation.hexOdd', {count: 5}) is what the editor shows. */
export function msg(key: string, subs: Record<string, string | number> = {}, lang = 'en-US'): string {
  catalogs[lang] ??= JSON.parse(fs.readFileSync(path.join(ROOT, 'dist', 'nodes', 'locales', lang, 'openobd.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  const value = key
    .split('.')
    .reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), catalogs[lang]);
  if (typeof value !== 'string') throw new Error(`no ${lang} message ${key}`);
  return value.replace(/__(\w+)__/g, (_m, name: string) => (name in subs ? String(subs[name]) : `__${name}__`));
}

export interface Editor {
  context: BrowserContext;
  page: Page;
  /** Uncaught exceptions in the page. */
  pageErrors: string[];
  close(): Promise<void>;
}

/** Opens the editor in a new browser context and waits until the openOBD nodes and the flows are loaded. */
export async function openEditor(
  browser: Browser,
  url: string,
  options: { dark?: boolean; locale?: string; viewport?: { width: number; height: number } } = {},
): Promise<Editor> {
  // The editor speaks the browser's language (navigator.language) unless the user chose one.
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1600, height: 1000 },
    locale: options.locale ?? 'en-US',
    colorScheme: options.dark ? 'dark' : 'light',
  });
  if (options.dark) {
    // Node-RED 5 keeps its appearance choice (auto, light, dark) in localStorage['view-dark-theme'].
    await context.addInitScript(() => {
      localStorage.setItem('view-dark-theme', 'dark');
    });
  }
  const page = await context.newPage();
  page.setDefaultTimeout(30000);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('dialog', (d) => void d.accept().catch(() => undefined));
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 120000 });
  await page
    .waitForFunction(
      () =>
        !!(
          window.RED &&
          RED.nodes &&
          RED.nodes.getType &&
          RED.nodes.getType('openobd-session-info') &&
          RED.workspaces &&
          RED.workspaces.active()
        ) &&
        !!document.querySelector('.red-ui-palette-node[data-palette-type="openobd-start-session"]') &&
        !$('#red-ui-loading-progress').is(':visible'),
      null,
      { timeout: 120000, polling: 250 },
    )
    .catch(async (err: Error) => {
      const seen = await page
        .evaluate(() => ({
          RED: !!window.RED,
          openobdTypes: window.RED && RED.nodes ? RED.nodes.registry.getNodeTypes().filter((t: string) => t.startsWith('openobd-')) : [],
          workspace: window.RED && RED.workspaces ? RED.workspaces.active() : null,
          loading: $('#red-ui-loading-progress').is(':visible'),
        }))
        .catch(() => 'page not scriptable');
      await context.close().catch(() => undefined);
      throw new Error(
        `the editor at ${url} did not finish loading with the openOBD nodes (${err.message}); it shows ${JSON.stringify(seen)}; page errors: ${JSON.stringify(pageErrors)}`,
      );
    });
  return {
    context,
    page,
    pageErrors,
    close: async () => {
      await context.close().catch(() => undefined);
    },
  };
}

export async function newFlowTab(page: Page): Promise<string> {
  const before = await page.evaluate(() => RED.workspaces.active());
  await page.evaluate(() => RED.actions.invoke('core:add-flow'));
  await page.waitForFunction((prev) => RED.workspaces.active() && RED.workspaces.active() !== prev, before);
  return page.evaluate(() => RED.workspaces.active());
}

/** Drags a node from the palette onto the canvas (offset from the canvas' top left); its id. */
export async function dragFromPalette(page: Page, type: string, at: { x: number; y: number } = { x: 300, y: 160 }): Promise<string> {
  const item = page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`);
  await item.scrollIntoViewIfNeeded();
  const from = await item.boundingBox();
  const chart = await page.locator('#red-ui-workspace-chart').boundingBox();
  if (!from || !chart) throw new Error(`palette node ${type} or the canvas is not visible`);
  const start = { x: from.x + from.width / 2, y: from.y + from.height / 2 };
  const end = { x: chart.x + at.x, y: chart.y + at.y };
  await page.mouse.move(start.x, start.y);
  await page.mouse.down();
  for (let i = 1; i <= 12; i++) await page.mouse.move(start.x + ((end.x - start.x) * i) / 12, start.y + ((end.y - start.y) * i) / 12);
  await page.mouse.up();
  const handle = await page.waitForFunction(
    (t) => {
      const sel = RED.view.selection();
      const n = sel && sel.nodes && sel.nodes.find((x: any) => x.type === t);
      return n ? n.id : false;
    },
    type,
    { timeout: 15000 },
  );
  return (await handle.jsonValue()) as string;
}

export function canvasNode(page: Page, id: string): Locator {
  return page.locator(`g.red-ui-flow-node-group[id="${id}"]`);
}

/** Double-clicks a node on the canvas and waits for its edit tray. */
export async function openNodeEditor(page: Page, id: string): Promise<void> {
  await page.evaluate((nodeId) => {
    const n = RED.nodes.node(nodeId);
    if (n && n.z !== RED.workspaces.active()) RED.workspaces.show(n.z);
  }, id);
  await canvasNode(page, id).locator('rect.red-ui-flow-node').first().dblclick();
  await page.locator('#node-dialog-ok').waitFor({ state: 'visible' });
  await page.waitForFunction(() => !!RED.editor && $('.red-ui-tray').length > 0 && !$('.red-ui-tray').is(':animated'));
}

/** The visible text field of a TypedInput property. */
export function typedInputField(page: Page, id: string): Locator {
  return page.locator(`#${id} + .red-ui-typedInput-container input.red-ui-typedInput-input`);
}

/** Types a value as a person does (the field fires change when it loses focus). */
export async function typeInto(field: Locator, value: string): Promise<void> {
  await field.click();
  await field.fill(value);
  await field.press('Tab');
}

/** Waits until the dialog marks the field (or its TypedInput) invalid; for plain fields, hovers it for the reason. */
export async function expectInvalid(page: Page, id: string, reason?: string): Promise<void> {
  await page
    .waitForFunction(
      (fieldId) => {
        const el = $('#' + fieldId);
        return el.hasClass('input-error') || el.next('.red-ui-typedInput-container').hasClass('input-error');
      },
      id,
      { timeout: 10000 },
    )
    .catch(async () => {
      throw new Error(
        `#${id} is not marked invalid (value ${JSON.stringify(
          await page
            .locator(`#${id}`)
            .inputValue()
            .catch(() => '?'),
        )})`,
      );
    });
  if (reason) {
    // The reason is a tooltip that opens when the mouse enters the field: leave the field, let any open
    // tooltip close, enter again. Retried, as a tooltip closing while the mouse comes back may not reopen.
    const tip = page.locator('.red-ui-popover', { hasText: reason }).first();
    let shown = false;
    for (let attempt = 0; attempt < 4 && !shown; attempt++) {
      await page.mouse.move(5, 500);
      await page.waitForFunction(() => $('.red-ui-popover:visible').length === 0, null, { timeout: 3000 }).catch(() => undefined);
      await page.locator(`#${id}`).hover();
      shown = await tip.waitFor({ state: 'visible', timeout: 4000 }).then(
        () => true,
        () => false,
      );
    }
    const seen = await page.evaluate(() => $('.red-ui-popover:visible').text());
    await page.mouse.move(5, 500);
    if (!shown) throw new Error(`#${id} does not explain "${reason}" (tooltip: ${JSON.stringify(seen)})`);
  }
}

export async function expectValid(page: Page, id: string): Promise<void> {
  await page
    .waitForFunction(
      (fieldId) => {
        const el = $('#' + fieldId);
        return el.length > 0 && !el.hasClass('input-error') && !el.next('.red-ui-typedInput-container').hasClass('input-error');
      },
      id,
      { timeout: 10000 },
    )
    .catch(() => {
      throw new Error(`#${id} is still marked invalid`);
    });
}

/** Presses Done in a flow node's edit tray and waits for the tray to close. */
export async function pressDone(page: Page): Promise<void> {
  await page.locator('#node-dialog-ok').click();
  await page.locator('#node-dialog-ok').waitFor({ state: 'detached' });
}

export async function pressCancel(page: Page): Promise<void> {
  await page.locator('#node-dialog-cancel').click();
  await page.locator('#node-dialog-cancel').waitFor({ state: 'detached' });
}

/** Adds a new config node from a flow node's config field (the "+" button); the config tray stays open. */
export async function addConfigNode(page: Page, property: string): Promise<void> {
  await page.locator(`#node-input-btn-${property}-add`).click();
  await page.locator('#node-config-dialog-ok').waitFor({ state: 'visible' });
  await page.waitForFunction(() => !$('.red-ui-tray').is(':animated'));
}

/** Presses Add/Update in the config node tray; the id of the config node now selected in the field. */
export async function pressConfigDone(page: Page, property: string): Promise<string> {
  await page.locator('#node-config-dialog-ok').click();
  await page.locator('#node-config-dialog-ok').waitFor({ state: 'detached' });
  return page.locator(`#node-input-${property}`).inputValue();
}

/** A node's saved properties, its validity and its label as the editor computes it. */
export async function nodeState(page: Page, id: string): Promise<Record<string, any> & { _valid: boolean; _label: string }> {
  const state = await page.evaluate((nodeId) => {
    const n = RED.nodes.node(nodeId);
    if (!n) return null;
    const out: Record<string, unknown> = { _valid: n.valid !== false, _label: RED.utils.getNodeLabel(n, n.type) };
    for (const key of Object.keys(n._def.defaults || {})) out[key] = n[key];
    return out;
  }, id);
  if (!state) throw new Error(`node ${id} is not in the editor`);
  return state as Record<string, any> & { _valid: boolean; _label: string };
}

/** The label drawn on the canvas. */
export async function canvasLabel(page: Page, id: string): Promise<string> {
  const text = await canvasNode(page, id).locator('.red-ui-flow-node-label').first().textContent();
  return (text || '').replace(/\s+/g, ' ').trim();
}

/**
 * Imports one example through the main menu: Import > Examples > @obdflow/node-red-openobd > file, "new flow".
 * An example that brings its own tab lands there (Node-RED adds the tab without showing it: the helper clicks it,
 * as a person does); one without lands in a new "Flow N" tab, hanging on the mouse until a click places it.
 */
export async function importExample(page: Page, moduleName: string, file: string): Promise<{ conflict: boolean; tab: string }> {
  await page.locator('#red-ui-header-button-sidemenu').click();
  await page.locator('#menu-item-import').click();
  await page.locator('#red-ui-clipboard-dialog-import-tabs').waitFor({ state: 'visible' });
  await page.locator('a[href="#red-ui-clipboard-dialog-import-tab-examples"]').click();
  const browserPane = page.locator('#red-ui-clipboard-dialog-import-tab-examples');
  const folder = browserPane.locator('.red-ui-treeList-label').filter({ hasText: moduleName }).first();
  await folder.waitFor({ state: 'visible' });
  const entry = browserPane
    .locator('.red-ui-treeList-label')
    .filter({ has: page.getByText(file, { exact: true }) })
    .first();
  const ok = page.locator('#red-ui-clipboard-dialog-ok');
  const okEnabled = () =>
    !$('#red-ui-clipboard-dialog-ok').hasClass('ui-state-disabled') && !$('#red-ui-clipboard-dialog-ok').prop('disabled');
  // The tree keeps its last state and renders lazily: open the folder if the file does not show, pick the
  // file, and try again if the pick did not take (a click that landed while the list was still moving).
  let picked = false;
  for (let attempt = 0; attempt < 4 && !picked; attempt++) {
    const shown = await entry.waitFor({ state: 'visible', timeout: 3000 }).then(
      () => true,
      () => false,
    );
    if (!shown) {
      await folder.click();
      await entry.waitFor({ state: 'visible', timeout: 10000 }).catch(() => undefined);
    }
    if (await entry.isVisible()) {
      await entry.click();
      picked = await page.waitForFunction(okEnabled, null, { timeout: 5000 }).then(
        () => true,
        () => false,
      );
    }
  }
  if (!picked) throw new Error(`could not pick "${file}" under Import > Examples > ${moduleName}`);
  await page.locator('#red-ui-clipboard-dialog-import-opt-new').click();
  await page.waitForFunction(okEnabled);
  const before = await page.evaluate(() => ({
    active: RED.workspaces.active() as string,
    tabs: RED.nodes.getWorkspaceOrder() as string[],
  }));
  await ok.click();
  await ok.waitFor({ state: 'hidden' });

  // Should Node-RED find imported ids that already exist, it asks what to do: the caller asserts it did
  // not (the examples share identical config nodes); "Import copy" would keep the existing ones.
  const copy = page.locator('.red-ui-notification button', { hasText: /import copy/i });
  // The tab the import added with nodes on it, or 'conflict', or 'dragging'.
  const outcome = async () =>
    (
      await page.waitForFunction(
        (tabsBefore: string[]) => {
          if ($('.red-ui-notification button:visible').filter((_i: number, b: any) => /import copy/i.test($(b).text())).length)
            return 'conflict';
          if (RED.view.state() === RED.state.IMPORT_DRAGGING) return 'dragging';
          const added = RED.nodes
            .getWorkspaceOrder()
            .find((id: string) => !tabsBefore.includes(id) && RED.nodes.filterNodes({ z: id }).length > 0);
          return added ? `tab:${added}` : false;
        },
        before.tabs,
        { timeout: 15000 },
      )
    ).jsonValue() as Promise<string>;
  let state = await outcome();
  const conflict = state === 'conflict';
  if (conflict) {
    await copy.click();
    state = await outcome();
  }
  if (state === 'dragging') {
    // The imported nodes hang on the mouse until a click places them.
    const chart = await page.locator('#red-ui-workspace-chart').boundingBox();
    if (!chart) throw new Error('no canvas');
    await page.mouse.move(chart.x + 150, chart.y + 100);
    await page.mouse.move(chart.x + 160, chart.y + 110);
    await page.mouse.click(chart.x + 160, chart.y + 110);
    await page.waitForFunction(() => RED.view.state() === RED.state.DEFAULT, null, { timeout: 15000 });
  } else if (state.startsWith('tab:')) {
    const added = state.slice(4);
    await page.locator(`#red-ui-tab-${added.replace('.', '-')}`).click();
    await page.waitForFunction((id) => RED.workspaces.active() === id, added, { timeout: 15000 });
  }
  const tab = await page.evaluate(() => RED.workspaces.active());
  if (tab === before.active) throw new Error(`importing ${file} into a new flow left the editor on the same tab`);
  return { conflict, tab };
}

/**
 * What a person would see overlap on a tab's canvas: node boxes as drawn (with room for the ports between
 * them), so labels hidden under other nodes, wires running behind them; and each status shown under a node
 * (its dot and text, as the SVG draws it) that runs into another node or another status. The tab must be shown.
 */
export async function overlappingNodes(page: Page, tab: string): Promise<string[]> {
  return page.evaluate((z) => {
    const PORT = 10; // a port sticks out 5 px on each side of a node
    type Box = { name: string; id: string; left: number; right: number; top: number; bottom: number };
    const nodes = RED.nodes.filterNodes({ z }).filter((n: any) => typeof n.w === 'number' && typeof n.h === 'number');
    const boxes: Box[] = nodes.map((n: any) => ({
      name: `${n.type} "${n.name || n.id}"`,
      id: n.id,
      left: n.x - n.w / 2 - PORT / 2,
      right: n.x + n.w / 2 + PORT / 2,
      top: n.y - n.h / 2,
      bottom: n.y + n.h / 2,
    }));
    // A status group sits at translate(dx, h + 3) from the node's top left corner; its box is in its own coordinates.
    const statuses: Box[] = [];
    for (const n of nodes) {
      const group = document.getElementById(n.id)?.querySelector('.red-ui-flow-node-status-group');
      if (!group || group.style.display === 'none') continue;
      const b = group.getBBox();
      if (!b.width) continue;
      const t = group.transform.baseVal.consolidate();
      const left = n.x - n.w / 2 + (t ? t.matrix.e : 0) + b.x;
      const top = n.y - n.h / 2 + (t ? t.matrix.f : 0) + b.y;
      statuses.push({
        name: `the status "${(n.status && n.status.text) || ''}" of ${n.type} "${n.name || n.id}"`,
        id: n.id,
        left,
        right: left + b.width,
        top,
        bottom: top + b.height,
      });
    }
    const meet = (a: Box, b: Box) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    const found: string[] = [];
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) if (meet(boxes[i], boxes[j])) found.push(`${boxes[i].name} / ${boxes[j].name}`);
    for (let i = 0; i < statuses.length; i++) {
      for (const b of boxes) if (b.id !== statuses[i].id && meet(statuses[i], b)) found.push(`${statuses[i].name} / ${b.name}`);
      for (let j = i + 1; j < statuses.length; j++)
        if (meet(statuses[i], statuses[j])) found.push(`${statuses[i].name} / ${statuses[j].name}`);
    }
    return found;
  }, tab);
}

/**
 * The nodes of the shown tab that are not wholly inside the visible canvas at the present zoom and scroll: each
 * node as drawn (box, ports, Inject button, status under it) against the canvas without its scroll bars.
 */
export async function nodesOutsideView(page: Page, tab: string): Promise<string[]> {
  return page.evaluate((z) => {
    const chart = document.getElementById('red-ui-workspace-chart');
    const c = chart.getBoundingClientRect();
    const view = { left: c.left, top: c.top, right: c.left + chart.clientWidth, bottom: c.top + chart.clientHeight };
    const out: string[] = [];
    for (const n of RED.nodes.filterNodes({ z })) {
      const el = document.getElementById(n.id);
      if (!el) {
        out.push(`${n.type} "${n.name || n.id}" is not drawn`);
        continue;
      }
      const r = el.getBoundingClientRect();
      if (r.left < view.left || r.top < view.top || r.right > view.right || r.bottom > view.bottom)
        out.push(
          `${n.type} "${n.name || n.id}" reaches ${Math.round(r.left - view.left)}..${Math.round(r.right - view.left)} x ` +
            `${Math.round(r.top - view.top)}..${Math.round(r.bottom - view.top)} in a ${chart.clientWidth} x ${chart.clientHeight} view`,
        );
    }
    return out;
  }, tab);
}

/** Problems the editor sees on a tab before a deploy: unknown types, invalid nodes (and their config nodes). */
export async function tabProblems(page: Page, tab: string): Promise<string[]> {
  return page.evaluate((z) => {
    const problems: string[] = [];
    const seen = new Set<string>();
    const check = (n: any) => {
      if (seen.has(n.id)) return;
      seen.add(n.id);
      const name = `${n.type} "${n.name || n.id}"`;
      if (n.type === 'unknown' || !RED.nodes.getType(n.type)) problems.push(`unknown type: ${n.name || n.type}`);
      else if (n.valid === false) problems.push(`invalid: ${name}${n.validationErrors ? ` (${n.validationErrors.join(', ')})` : ''}`);
      for (const key of Object.keys((n._def && n._def.defaults) || {})) {
        const d = n._def.defaults[key];
        if (d.type && n[key]) {
          const conf = RED.nodes.node(n[key]);
          if (!conf) problems.push(`${name}: missing ${d.type} ${n[key]}`);
          else check(conf);
        }
      }
    };
    RED.nodes.eachNode((n: any) => {
      if (n.z === z) check(n);
    });
    return problems;
  }, tab);
}

/** Deploys with the Deploy button; fails with the text of any confirmation Node-RED shows instead. */
export async function deploy(page: Page): Promise<void> {
  // Counted through the editor's own "deploy" event: the workspace may turn dirty again right after a deploy
  // (a change made while it ran), so "not dirty" alone can be missed.
  const before = await page.evaluate(() => {
    const w = window as unknown as { openobdDeploys?: number };
    if (w.openobdDeploys === undefined) {
      w.openobdDeploys = 0;
      RED.events.on('deploy', () => (w.openobdDeploys = (w.openobdDeploys ?? 0) + 1));
    }
    return w.openobdDeploys;
  });
  await page.locator('#red-ui-header-button-deploy').click();
  const outcome = await page.waitForFunction(
    (count) => {
      if ((window as unknown as { openobdDeploys: number }).openobdDeploys > count) return 'deployed';
      // A confirmation (unknown types, invalid nodes, conflicts) or an error notification instead of a deploy
      // (not the notice of the sessions the deploy ended).
      const dialog = $('.ui-dialog:visible, .red-ui-notification-error:visible, .red-ui-notification-warning:visible').not(
        ':has(.openobd-sessions-ended)',
      );
      return dialog.length ? `Node-RED asked before deploying: ${dialog.text().replace(/\s+/g, ' ').trim()}` : false;
    },
    before,
    { timeout: 60000, polling: 200 },
  );
  const result = (await outcome.jsonValue()) as string;
  if (result !== 'deployed') throw new Error(result);
}

/** Clicks the button of an inject node on the canvas. */
export async function clickInject(page: Page, id: string): Promise<void> {
  await page.evaluate((nodeId) => {
    const n = RED.nodes.node(nodeId);
    if (n && n.z !== RED.workspaces.active()) RED.workspaces.show(n.z);
  }, id);
  await canvasNode(page, id).locator('.red-ui-flow-node-button').first().click();
}

export async function showDebugSidebar(page: Page): Promise<Locator> {
  await page.evaluate(() => RED.actions.invoke('core:show-debug-tab'));
  const pane = page.locator('.red-ui-debug-content').first();
  await pane.waitFor({ state: 'visible' });
  return pane;
}

export async function clearDebug(page: Page): Promise<void> {
  await page.evaluate(() => RED.actions.invoke('core:clear-debug-messages'));
}

/** The id of the node of that type and name on a tab. */
export async function findNode(page: Page, tab: string, type: string, name?: string): Promise<string> {
  const id = await page.evaluate(
    ({ z, t, n }) => {
      const found = RED.nodes.filterNodes({ z, type: t }).find((x: any) => n === undefined || x.name === n);
      return found ? found.id : null;
    },
    { z: tab, t: type, n: name },
  );
  if (!id) throw new Error(`no ${type}${name ? ` named "${name}"` : ''} on tab ${tab}`);
  return id;
}

/*
 * Editor helpers shared by the openOBD node types (hex and CAN id checks, labels, the admin-endpoint
 * pickers). Everything hangs off one global, window.OpenObdEditor; the RED.nodes.registerType calls stay
 * in the per-node files, as literals, so the Flow Library and `node-red-dev validate` can read them.
 */
namespace OpenObdEditor {
  const R = OpenObdRules; // the runtime's own input rules (client/input-rules.ts), wrapped in by the build

  /** A session as GET openobd/sessions lists it (nodes/lib/admin-routes.ts). */
  export interface SessionSummary {
    id: string;
    state?: string;
    keepalive?: string;
    ticketId?: string;
    connectorId?: string;
    createdAt?: string;
  }

  /** What GET openobd/simulator answers (nodes/lib/admin-routes.ts); the sidebar reads more of it. */
  export interface SimulatorView {
    running?: boolean;
    tickets?: Array<{ id: string; vehicle?: string; [more: string]: unknown }>;
    connectors?: Array<{ id: string; [more: string]: unknown }>;
    [more: string]: unknown;
  }

  /** One button of renderChoices. */
  export interface Choice {
    value: string;
    label: string;
    title?: string;
  }

  /** A node in an import, as Node-RED hands it to RED.view.importNodes. */
  interface ImportedNode {
    id: string;
    type: string;
    credentials?: unknown;
    [prop: string]: unknown;
  }

  /** Translates a key of this node set (the account type's catalog namespace); the key itself if unknown. */
  export function t(key: string, subs?: RedSubs): string {
    const def = RED.nodes.getType('openobd-account');
    if (def && typeof def._ === 'function') {
      return def._(key, subs);
    }
    return key;
  }

  /** true, or the dialog's sentence for the rule a value broke (openobd.validation.<rule>). */
  export function verdict(checked: OpenObdChecked<unknown>): true | string {
    return checked.ok ? true : t('openobd.validation.' + checked.problem.rule, checked.problem.values);
  }

  export function text(v: unknown): string {
    return v === undefined || v === null ? '' : String(v);
  }

  /**
   * A neighbouring property for a validator: while the node's edit dialog is open (its field exists),
   * what the user has typed there; otherwise the saved value. The core MQTT broker node does the same.
   */
  export function field(node: RedNode | null | undefined, prop: string): unknown {
    const isConfig = !!(node && node._def && node._def.category === 'config');
    const $el = $('#' + (isConfig ? 'node-config-input-' : 'node-input-') + prop);
    if ($el.length) {
      return $el.attr('type') === 'checkbox' ? ($el.prop('checked') as boolean) : $el.val();
    }
    return node ? (node as unknown as Record<string, unknown>)[prop] : undefined;
  }

  /** true, or why the text is not a request the runtime accepts. Blank is fine (msg.payload is used). */
  export function checkRequestHex(v: unknown): true | string {
    if (!text(v).trim()) {
      return true;
    }
    const scanned = R.checkHexText(text(v));
    if (!scanned.ok) {
      return verdict(scanned);
    }
    if (scanned.value.length === 0) {
      return t('openobd.validation.hexEmpty');
    }
    if (scanned.value.length / 2 > R.ISOTP_MAX_PAYLOAD) {
      return t('openobd.validation.hexLong', { count: scanned.value.length / 2, max: R.ISOTP_MAX_PAYLOAD });
    }
    return true;
  }

  /** "22f190" -> "22 F1 90" (unchanged when it is not valid hex). */
  export function formatHex(v: unknown): string {
    const scanned = R.checkHexText(text(v));
    if (!scanned.ok) {
      return text(v);
    }
    const pairs = scanned.value.toUpperCase().match(/../g);
    return pairs ? pairs.join(' ') : '';
  }

  /** The short form for node labels: the service id, then the rest ("22 F190", "19 02FF"). */
  export function labelHex(v: unknown, max?: number): string {
    const scanned = R.checkHexText(text(v));
    const digits = scanned.ok ? scanned.value.toUpperCase() : text(v).trim();
    if (!digits) {
      return '';
    }
    let rest = digits.slice(2);
    const limit = max || 12;
    if (rest.length > limit) {
      rest = rest.slice(0, limit) + '\u2026';
    }
    return rest ? digits.slice(0, 2) + ' ' + rest : digits.slice(0, 2);
  }

  export function checkCanId(v: unknown): true | string {
    return verdict(R.checkCanId(v));
  }

  /** Responder ids of a functional ECU: "7E8-7EF", "7E8, 7EA" or blank (the OBD-II range 7E8-7EF). */
  export function checkResponderIds(v: unknown): true | string {
    return verdict(R.checkResponderIds(v));
  }

  /**
   * A validator for an optional whole number of milliseconds: blank (the runtime's default) or a
   * number above 0, on top of Node-RED's own number validator.
   */
  export function optionalPositive(fallback: number): RedValidator {
    const isNumber = RED.validators.number(true);
    return function (this: RedNode, v: unknown, opt?: object) {
      const s = text(v).trim();
      if (s === '') {
        return true;
      }
      const r = isNumber.call(this, s, opt);
      if (r !== true) {
        return r;
      }
      return /^\d+$/.test(s) && Number(s) > 0 ? true : t('openobd.validation.timeout', { fallback: fallback });
    };
  }

  /**
   * A validator for a whole number from `min` to `max` (Node-RED's number validator first, then the
   * range, explained by `messageKey`).
   */
  export function wholeNumber(min: number, max: number, messageKey: string): RedValidator {
    const isNumber = RED.validators.number(false);
    return function (this: RedNode, v: unknown, opt?: object) {
      const s = text(v).trim();
      const r = isNumber.call(this, s, opt);
      if (r !== true) {
        return r;
      }
      return /^\d+$/.test(s) && Number(s) >= min && Number(s) <= max ? true : t(messageKey);
    };
  }

  /** Validator: one of the CAN bit rates openOBD configures (the runtime's list, client/input-rules.ts). */
  export function bitRate(v: unknown): true | string {
    return R.CAN_BIT_RATES_KBPS.indexOf(String(v)) >= 0 ? true : t('openobd.validation.bitRate');
  }

  /*
   * Fills a bit-rate select with those rates and selects the node's. Node-RED sets the inputs before
   * oneditprepare, when the select has no options yet, so the value is set again here.
   */
  function fillBitRates($select: JQuery, value: unknown): void {
    R.CAN_BIT_RATES_KBPS.forEach(function (kbps) {
      $('<option></option>')
        .val(kbps)
        .text(kbps + ' kbit/s')
        .appendTo($select);
    });
    $select.val(String(value));
  }

  /**
   * Wires the bus fields of a dialog (bus name, pins and bit rate: the shared template part
   * nodes/lib/editor/bus-fields.html, whose ids start with `prefix`): the bit rates to choose from.
   */
  export function busFields(prefix: 'node-input' | 'node-config-input', node: RedNode<{ bitRate?: unknown }>): void {
    fillBitRates($('#' + prefix + '-bitRate'), node.bitRate);
  }

  /** Validator: one of `values` (compared as they are), or the sentence `messageKey`. */
  export function oneOf(values: readonly unknown[], messageKey: string): RedValidator {
    return function (v, _opt) {
      return values.indexOf(v) >= 0 ? true : t(messageKey);
    };
  }

  /*
   * Adds an option per value to a select, each with its text from the catalog (`keyPrefix` + value), after the
   * options the template has, and selects the node's value (set again: Node-RED sets it before oneditprepare).
   */
  export function fillOptions($select: JQuery, values: readonly string[], keyPrefix: string, value: unknown): void {
    values.forEach(function (v) {
      $('<option></option>')
        .val(v)
        .attr('data-i18n', keyPrefix + v)
        .text(t(keyPrefix + v))
        .appendTo($select);
    });
    $select.val(text(value));
  }

  /** An OBD connector pin (1 to 16) that none of the `others` properties of the same node uses. */
  export function pin(others: string[]): RedValidator {
    const inRange = wholeNumber(1, 16, 'openobd.validation.pin');
    return function (this: RedNode, v: unknown, opt?: object) {
      const r = inRange.call(this, v, opt);
      if (r !== true) {
        return r;
      }
      const node = this;
      const clash = others.some(function (prop) {
        return Number(text(v).trim()) === Number(field(node, prop));
      });
      return clash ? t('openobd.validation.pinsEqual') : true;
    };
  }

  /**
   * A validator for a TypedInput that must not be blank: `emptyKey` names the sentence for a blank field;
   * everything else is Node-RED's own check of the type the user chose (msg property syntax, numbers...).
   */
  export function requiredTyped(typeField: string, emptyKey: string | ((node: RedNode) => string)): RedValidator {
    const typed = RED.validators.typedInput({ typeField: typeField, allowBlank: false });
    return function (this: RedNode, v: unknown, opt?: object) {
      if (!text(v).trim()) {
        return t(typeof emptyKey === 'function' ? emptyKey(this) : emptyKey);
      }
      return typed.call(this, v, opt);
    };
  }

  /** A validator for a TypedInput that may stay blank (the runtime then reads msg). */
  export function optionalTyped(typeField: string): RedValidator {
    return RED.validators.typedInput({ typeField: typeField, allowBlank: true });
  }

  /** "msg.payload", "flow.ticket", "env.TICKET", or the literal value. */
  export function typedLabel(type: unknown, v: unknown): string {
    const s = text(v);
    switch (type) {
      case 'msg':
      case 'flow':
      case 'global':
      case 'env':
        return type + '.' + s;
      default:
        return s;
    }
  }

  /** A label (palette, ports) that is the text of `key` in this node set's catalog. */
  export function label(key: string): (this: RedNode) => string {
    return function () {
      return this._(key);
    };
  }

  /** labelStyle: italic when the node has a name of its own, as the core nodes show it. */
  export function italicWhenNamed(this: RedNode): string {
    return this.name ? 'node_label_italic' : '';
  }

  /** Shortens long ids (session UUIDs) for node labels. */
  export function shortId(v: unknown, keep?: number): string {
    const s = text(v);
    const n = keep || 8;
    return s.length > n + 2 ? s.slice(0, n) + '\u2026' : s;
  }

  /** Keeps the end of long ids (connector UUIDs differ at the end): "…000000000001". */
  export function shortTail(v: unknown, keep?: number): string {
    const s = text(v);
    const n = keep || 8;
    return s.length > n + 2 ? '\u2026' + s.slice(-n) : s;
  }

  /** The account config node's mode ('simulator' | 'cloud' | 'custom'), or '' when unknown. */
  export function accountMode(accountId: unknown): string {
    const account = accountId ? RED.nodes.node(String(accountId)) : null;
    return account ? String(account.mode || 'simulator') : '';
  }

  /** What the built-in simulator offers: {running, tickets[], connectors[]}; null if unreachable. */
  export function fetchSimulator(done: (data: SimulatorView | null) => void): void {
    $.getJSON('openobd/simulator')
      .done(function (data) {
        done(data && typeof data === 'object' ? (data as SimulatorView) : null);
      })
      .fail(function () {
        done(null);
      });
  }

  /** Why an admin request failed: the route's own error text, else the HTTP status. */
  export function failureReason(xhr: JQuery.jqXHR): string {
    const answer = xhr.responseJSON as { error?: string } | undefined;
    return answer && answer.error ? answer.error : xhr.statusText || String(xhr.status);
  }

  /** Sessions this Node-RED holds (optionally of one account); [] if the endpoint is not reachable. */
  export function fetchSessions(accountId: string | undefined, done: (sessions: SessionSummary[]) => void): void {
    $.getJSON('openobd/sessions', accountId ? { account: accountId } : {})
      .done(function (data) {
        done(Array.isArray(data) ? data : []);
      })
      .fail(function () {
        done([]);
      });
  }

  /**
   * Fills a container with small one-click buttons: items [{value, label, title}], onPick(value).
   * Text goes in with .text(), never as HTML.
   */
  export function renderChoices<T extends Choice>($container: JQuery, items: T[], onPick: (value: string, item: T) => void): void {
    $container.empty();
    items.forEach(function (item) {
      $('<button type="button" class="red-ui-button red-ui-button-small openobd-choice"></button>')
        .text(item.label)
        .attr('title', item.title || item.value)
        .on('click', function (e) {
          e.preventDefault();
          onPick(item.value, item);
        })
        .appendTo($container);
    });
  }

  /**
   * A picker of live sessions under a session-id TypedInput: a refresh button, then one button per session
   * held by this Node-RED for the chosen account. Fails quietly (shows "none") when the endpoint is down.
   */
  export function sessionPicker(opts: { row: string; account: string; onPick: (id: string) => void }): { refresh: () => void } {
    const $row = $(opts.row);
    const $list = $row.find('.openobd-picker-list');
    const $refresh = $row.find('.openobd-picker-refresh');
    function load() {
      const accountId = String($(opts.account).val() || '');
      if (!accountId || accountId === '_ADD_') {
        $list.empty().append($('<span class="openobd-picker-empty"></span>').text(t('openobd.picker.noAccount')));
        return;
      }
      $list.empty().append($('<span class="openobd-picker-empty"></span>').text(t('openobd.picker.loading')));
      fetchSessions(accountId, function (sessions) {
        if (!sessions.length) {
          $list.empty().append($('<span class="openobd-picker-empty"></span>').text(t('openobd.picker.noSessions')));
          return;
        }
        renderChoices(
          $list,
          sessions.map(function (s) {
            const where = s.ticketId
              ? t('openobd.picker.onTicket', { id: s.ticketId })
              : s.connectorId
                ? t('openobd.picker.onConnector', { id: shortId(s.connectorId, 8) })
                : '';
            return {
              value: s.id,
              label: shortId(s.id, 8) + ' ' + (s.state || ''),
              title: [s.id, s.state, s.keepalive, where, s.createdAt]
                .filter(function (x) {
                  return !!x;
                })
                .join(' \u00b7 '),
            };
          }),
          function (id) {
            opts.onPick(id);
          },
        );
      });
    }
    $refresh.off('click.openobd').on('click.openobd', function (e) {
      e.preventDefault();
      load();
    });
    $(opts.account).off('change.openobdPicker').on('change.openobdPicker', load);
    load();
    return { refresh: load };
  }

  export const isLoopbackHost = R.isLoopbackHost;

  /**
   * The session id field of interrupt and session info: a TypedInput (blank = msg.openobd.sessionId)
   * and the live-session picker in `pickerRow`, which fills the field as a plain string.
   */
  export function sessionIdField(pickerRow: string): void {
    const $sessionId = $('#node-input-sessionId');
    $sessionId.typedInput({
      default: 'str',
      typeField: '#node-input-sessionIdSource',
      types: ['str', 'msg', 'flow', 'global', 'env'],
    });
    sessionPicker({
      row: pickerRow,
      account: '#node-input-account',
      onPick: function (id) {
        $sessionId.typedInput('type', 'str');
        $sessionId.typedInput('value', id);
      },
    });
  }

  /** A hex address of `bytes` bytes (K-Line and TP 2.0: 1, DoIP: 2). */
  export function checkAddress(v: unknown, bytes: 1 | 2): true | string {
    return verdict(R.checkAddress(v, bytes));
  }

  /** K-Line key bytes ("EF 8F") or blank. */
  export function checkKeyBytes(v: unknown): true | string {
    return verdict(R.checkKeyBytes(v));
  }

  /** CAN frame filters ("0C9, 700/700") or blank. */
  export function checkFrameFilters(v: unknown): true | string {
    return verdict(R.checkFrameFilters(v));
  }

  /**
   * A validator that applies `check` only while the node's `prop` (e.g. its transport; `fallback` when it
   * is not set, as in nodes saved before it existed) is one of `values`; otherwise the field is not used.
   */
  export function when(prop: string, fallback: string, values: string[], check: RedValidator): RedValidator {
    return function (this: RedNode, v: unknown, opt?: object) {
      const current = String(field(this, prop) || fallback);
      return values.indexOf(current) >= 0 ? check.call(this, v, opt) : true;
    };
  }

  /**
   * Validates an ECU setting only when the chosen transport's dialog asks for it (the runtime's
   * TRANSPORT_FIELDS), so a hidden field of another transport never blocks a save.
   */
  export function forTransport(setting: string, check: RedValidator): RedValidator {
    return when('transport', 'isotp', R.transportsWith(setting), check);
  }

  /** How a node label shows its session id setting: a short id, or where the id comes from. */
  export function sessionIdLabel(node: RedNode<{ sessionId?: string; sessionIdSource?: string }>): string {
    const source = node.sessionIdSource || 'str';
    return source === 'str' ? shortId(node.sessionId, 8) : typedLabel(source, node.sessionId);
  }

  /*
   * The examples share their config nodes (one "openOBD simulator" account, the same ECUs), by id. Node-RED
   * reports every imported id that already exists as a conflict and asks what to do, even when the
   * existing config node is exactly the one being imported. So an openOBD config node that is already
   * there, identical, is left out of an import (the imported flow nodes then use the existing one); one
   * that differs in anything still goes through Node-RED's own conflict handling.
   */
  const SHARED_CONFIG_TYPES = ['openobd-account', 'openobd-ecu'];

  function sameConfig(existing: RedNode<Record<string, unknown>> | null, imported: ImportedNode): boolean {
    const def = RED.nodes.getType(imported.type);
    if (!def || !existing || existing.type !== imported.type) {
      return false;
    }
    const defaults = def.defaults as Record<string, RedPropDef>;
    return Object.keys(defaults).every(function (prop) {
      const value = Object.prototype.hasOwnProperty.call(imported, prop) ? imported[prop] : defaults[prop].value;
      return JSON.stringify(existing[prop]) === JSON.stringify(value);
    });
  }

  function withoutExistingConfig(nodes: ImportedNode[]): ImportedNode[] {
    return nodes.filter(function (n) {
      return !(n && SHARED_CONFIG_TYPES.indexOf(n.type) >= 0 && !n.credentials && sameConfig(RED.nodes.node(n.id), n));
    });
  }

  const importNodes = RED.view && RED.view.importNodes;
  if (typeof importNodes === 'function') {
    RED.view.importNodes = function (this: unknown, ...args: unknown[]) {
      let list = args[0];
      const options = args[1] as { generateIds?: boolean } | undefined;
      if (typeof list === 'string') {
        try {
          list = JSON.parse(list);
        } catch {
          return importNodes.apply(this, args); // Node-RED explains what is wrong with it
        }
      }
      if (Array.isArray(list) && !(options && options.generateIds)) {
        args[0] = withoutExistingConfig(list as ImportedNode[]);
      }
      return importNodes.apply(this, args);
    };
  }
}

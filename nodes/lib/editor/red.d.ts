/*
 * The parts of the Node-RED editor API (https://nodered.org/docs/api/ui/ and
 * https://nodered.org/docs/creating-nodes/node-js) this package's editor code uses, typed as they behave in
 * Node-RED 4.1 and 5. jQuery itself is typed by @types/jquery; its Node-RED widgets are added here.
 */

/** The input rules shared with the runtime (client/input-rules.ts), which the build wraps in as window.OpenObdRules. */
declare const OpenObdRules: typeof import('../../../client/input-rules');
/** A rule's answer: the value, or the problem (client/input-rules.ts). */
type OpenObdChecked<T> = import('../../../client/input-rules').Checked<T>;

/** protocol/wire.ts (which the input rules take their result names from) names Node's Buffer in message shapes. */
type Buffer = Uint8Array;

/** Substitutions for a catalog message (__name__ placeholders). */
type RedSubs = Record<string, unknown>;

/** What every node in the editor has, besides the properties of its type (P). */
interface RedNodeBase {
  id: string;
  type: string;
  z?: string;
  name?: string;
  _def: RedNodeDef<object>;
  /** Translates a key of the node set's catalog. */
  _(key: string, subs?: RedSubs): string;
  credentials?: Record<string, unknown>;
  changed?: boolean;
  dirty?: boolean;
  valid?: boolean;
  users?: RedNode[];
}

type RedNode<P = object> = RedNodeBase & P;

/**
 * A validator of one property: true, or why not (a sentence), or false. Node-RED shows the sentence only when the
 * function declares two parameters (value, opt): with one it takes any string for true.
 */
type RedValidator<P = object> = (this: RedNode<P>, value: unknown, opt?: object) => boolean | string;

interface RedPropDef<P = object, V = unknown> {
  value: V;
  required?: boolean;
  type?: string;
  label?: string;
  validate?: RedValidator<P>;
}

type RedLabel<P> = string | ((this: RedNode<NoInfer<P>>) => string);

/** A node type's definition; its properties (P) are inferred from `defaults` alone. */
interface RedNodeDef<P> {
  category: string;
  color?: string;
  icon?: string | ((this: RedNode<NoInfer<P>>) => string);
  align?: 'left' | 'right';
  inputs?: number;
  outputs?: number;
  defaults: { [K in keyof P]-?: RedPropDef<P, P[K]> };
  credentials?: Record<string, { type: 'text' | 'password'; value?: string; required?: boolean; validate?: RedValidator<NoInfer<P>> }>;
  categoryDescription?: string;
  paletteLabel?: RedLabel<P>;
  label?: RedLabel<P>;
  labelStyle?: RedLabel<P>;
  inputLabels?: RedLabel<P>;
  outputLabels?: string | string[] | ((this: RedNode<NoInfer<P>>, index: number) => string);
  button?: {
    enabled?: (this: RedNode<NoInfer<P>>) => boolean;
    visible?: (this: RedNode<NoInfer<P>>) => boolean;
    onclick: (this: RedNode<NoInfer<P>>) => void;
  };
  exportable?: boolean;
  oneditprepare?: (this: RedNode<NoInfer<P>>) => void;
  oneditsave?: (this: RedNode<NoInfer<P>>) => void | boolean;
  oneditcancel?: (this: RedNode<NoInfer<P>>) => void;
  oneditdelete?: (this: RedNode<NoInfer<P>>) => void;
  oneditresize?: (this: RedNode<NoInfer<P>>, size: { width: number; height: number }) => void;
  onadd?: (this: RedNode<NoInfer<P>>) => void;
  onpaletteadd?: () => void;
  onpaletteremove?: () => void;
}

interface RedTypedInputType {
  value: string;
  label?: string;
  icon?: string;
  hasValue?: boolean;
  options?: Array<string | { value: string; label: string }>;
  validate?: RegExp | ((v: string) => boolean);
}

interface RedTypedInputOptions {
  default?: string;
  types: Array<string | RedTypedInputType>;
  typeField?: string | JQuery;
}

interface RedEditableListOptions<T> {
  addButton?: boolean | string;
  addItem?: (row: JQuery, index: number, data: T) => void;
  removable?: boolean;
  sortable?: boolean | string;
  header?: JQuery;
  height?: number | string;
  scrollOnAdd?: boolean;
  removeItem?: (data: T) => void;
  resize?: () => void;
}

interface JQuery {
  typedInput(options: RedTypedInputOptions): this;
  typedInput(method: 'type' | 'value'): string;
  typedInput(method: 'type' | 'value', value: string): this;
  typedInput(method: 'types', types: Array<string | RedTypedInputType>): this;
  typedInput(method: 'width', width: number | string): this;
  typedInput(method: 'validate'): boolean;
  typedInput(method: 'show' | 'hide' | 'focus' | 'enable' | 'disable'): this;
  editableList<T>(options: RedEditableListOptions<T>): this;
  editableList(method: 'addItem', data: unknown): this;
  editableList(method: 'items'): JQuery;
  editableList(method: 'empty'): this;
  editableList(method: 'height', height: number): this;
  i18n(): this;
}

interface RedNotification {
  close(): void;
}

interface RedSidebarTab {
  id: string;
  label: string;
  name: string;
  iconClass: string;
  content: JQuery;
  toolbar?: JQuery;
  enableOnEdit?: boolean;
  action?: string;
  onchange?: () => void;
}

declare namespace RED {
  /** Translates a key of Node-RED's catalogs ("<namespace>:<key>"). */
  function _(key: string, subs?: RedSubs): string;

  function notify(
    message: string | JQuery,
    options?:
      | 'warning'
      | 'error'
      | 'success'
      | 'compact'
      | {
          type?: 'warning' | 'error' | 'success' | 'compact';
          timeout?: number;
          fixed?: boolean;
          modal?: boolean;
          buttons?: Array<{ text: string; class?: string; click: () => void }>;
        },
  ): RedNotification;

  /** The editor's i18n (its language), absent in very old editors. */
  const i18n: { lang?: () => string } | undefined;

  namespace nodes {
    function registerType<P>(type: string, definition: RedNodeDef<P>): void;
    function getType(type: string): (RedNodeDef<object> & { _?: (key: string, subs?: RedSubs) => string }) | undefined;
    function node(id: string): RedNode<Record<string, unknown>> | null;
    function eachNode(callback: (node: RedNode<Record<string, unknown>>) => boolean | void): void;
    function eachConfig(callback: (node: RedNode<Record<string, unknown>>) => boolean | void): void;
    function dirty(): boolean;
    function dirty(value: boolean): void;
  }

  namespace validators {
    function number(blankAllowed?: boolean): RedValidator;
    function typedInput(options: string | { typeField: string; allowBlank?: boolean }): RedValidator;
  }

  namespace events {
    function on(event: string, handler: (...args: never[]) => void): void;
    function off(event: string, handler: (...args: never[]) => void): void;
  }

  namespace comms {
    function subscribe(topic: string, handler: (topic: string, data: never) => void): void;
    function unsubscribe(topic: string, handler: (topic: string, data: never) => void): void;
  }

  namespace actions {
    function add(name: string, handler: () => void): void;
    function remove(name: string): void;
    function get(name: string): (() => void) | undefined;
    function invoke(name: string, ...args: unknown[]): void;
  }

  namespace sidebar {
    function addTab(tab: RedSidebarTab): void;
    function removeTab(id: string): void;
    function show(id: string): void;
    function containsTab(id: string): boolean;
  }

  namespace settings {
    function get<T>(name: string, fallback?: T): T;
    function set(name: string, value: unknown): void;
  }

  namespace view {
    let importNodes: ((...args: unknown[]) => unknown) | undefined;
  }
}

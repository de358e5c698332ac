import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import * as descriptor from 'protobufjs/ext/descriptor';
import * as ts from 'typescript';
import { LOADER_OPTIONS, PROTO_PACKAGE, openObdDefinition } from '../../protocol';

/*
 * protocol/wire.ts is written by hand; proto/ is the source of truth. This reads wire.ts with the
 * TypeScript parser and the proto files as @grpc/proto-loader loads them (the package's own loader), and
 * checks that every message, enum, service and call wire.ts declares is in proto/ with the fields,
 * types, labels and oneofs wire.ts states, that its enums list exactly the proto's values, and that
 * every call the client names is declared.
 */

const ROOT = path.resolve(__dirname, '..', '..', '..');
const WIRE = path.join('protocol', 'wire.ts');

/** wire.ts names that do not follow "proto name" / "proto name + Message" / "proto enum name + Name". */
const PROTO_NAMES: Record<string, string[]> = {
  // One shape for the three token messages: each is a single `string value`.
  TokenMessage: ['openOBD.v1.SessionControllerToken', 'openOBD.v1.SessionToken', 'openOBD.v1.FunctionBrokerToken'],
  IdMessage: ['openOBD.v1.TicketId', 'openOBD.v1.ConnectorId', 'openOBD.v1.SessionId', 'openOBD.v1.FunctionId'],
  AnyMessage: ['google.protobuf.Any'],
};

/** wire.ts type names that are not proto shapes (helpers for the table of calls). */
const NOT_PROTO = new Set(['OpenObdCalls', 'OpenObdCall']);

// ---- proto/, as the package loads it ----

function protoRoot(): protobuf.Root {
  const definition = openObdDefinition() as unknown as Record<string, { fileDescriptorProtos?: Buffer[] }>;
  const files = new Map<string, protobuf.Message>();
  const add = (buffers: Buffer[] | undefined) => {
    for (const b of buffers ?? []) {
      const file = descriptor.FileDescriptorProto.decode(b) as protobuf.Message & { name: string };
      files.set(file.name, file);
    }
  };
  for (const entry of Object.values(definition)) {
    if ('fileDescriptorProtos' in entry) add(entry.fileDescriptorProtos);
    else
      for (const m of Object.values(entry as Record<string, { requestType: { fileDescriptorProtos: Buffer[] } }>))
        add(m.requestType.fileDescriptorProtos);
  }
  const set = descriptor.FileDescriptorSet.create({ file: [...files.values()] });
  const root = (protobuf.Root as unknown as { fromDescriptor(d: protobuf.Message): protobuf.Root }).fromDescriptor(set);
  root.resolveAll();
  return root;
}

function lookup(root: protobuf.Root, fullName: string): protobuf.ReflectionObject | null {
  return root.lookup(fullName);
}

const isSyntheticOneof = (o: protobuf.OneOf) => o.fieldsArray.length === 1 && o.name === `_${o.fieldsArray[0]!.name}`;

// ---- wire.ts, as the TypeScript parser reads it ----

type Decl = { kind: 'interface'; members: ts.NodeArray<ts.TypeElement> } | { kind: 'alias'; type: ts.TypeNode };

function parse(file: string): { source: ts.SourceFile; decls: Map<string, Decl> } {
  const source = ts.createSourceFile(file, fs.readFileSync(path.join(ROOT, file), 'utf8'), ts.ScriptTarget.ES2022, true);
  const decls = new Map<string, Decl>();
  for (const s of source.statements) {
    if (ts.isInterfaceDeclaration(s)) decls.set(s.name.text, { kind: 'interface', members: s.members });
    else if (ts.isTypeAliasDeclaration(s)) decls.set(s.name.text, { kind: 'alias', type: s.type });
    else if (ts.isVariableStatement(s))
      for (const d of s.declarationList.declarations) {
        const names = d.initializer && stringArray(d.initializer);
        if (ts.isIdentifier(d.name) && names) STRING_ARRAYS.set(d.name.text, names);
      }
  }
  return { source, decls };
}

/** `const X = ['A', 'B'] as const`: a type `(typeof X)[number]` stands for 'A' | 'B'. */
const STRING_ARRAYS = new Map<string, string[]>();

function stringArray(e: ts.Expression): string[] | undefined {
  while (ts.isAsExpression(e) || ts.isParenthesizedExpression(e)) e = e.expression;
  if (!ts.isArrayLiteralExpression(e) || !e.elements.every(ts.isStringLiteral)) return undefined;
  return e.elements.map((x) => (x as ts.StringLiteral).text);
}

function unionMembers(node: ts.TypeNode): ts.TypeNode[] {
  while (ts.isParenthesizedTypeNode(node)) node = node.type;
  if (ts.isIndexedAccessTypeNode(node) && node.indexType.kind === ts.SyntaxKind.NumberKeyword) {
    let object = node.objectType;
    while (ts.isParenthesizedTypeNode(object)) object = object.type;
    const names = ts.isTypeQueryNode(object) && ts.isIdentifier(object.exprName) ? STRING_ARRAYS.get(object.exprName.text) : undefined;
    if (names) return names.map((n) => ts.factory.createLiteralTypeNode(ts.factory.createStringLiteral(n)));
  }
  return ts.isUnionTypeNode(node) ? node.types.flatMap(unionMembers) : [node];
}

const isNull = (n: ts.TypeNode) => ts.isLiteralTypeNode(n) && n.literal.kind === ts.SyntaxKind.NullKeyword;
const refName = (n: ts.TypeNode) => (ts.isTypeReferenceNode(n) && ts.isIdentifier(n.typeName) ? n.typeName.text : undefined);
const stringLiteral = (n: ts.TypeNode) => (ts.isLiteralTypeNode(n) && ts.isStringLiteral(n.literal) ? n.literal.text : undefined);

/** The element type of `T[]` or `Array<T>`, or undefined. */
function elementOf(node: ts.TypeNode): ts.TypeNode | undefined {
  if (ts.isArrayTypeNode(node)) return node.elementType;
  if (refName(node) === 'Array') return (node as ts.TypeReferenceNode).typeArguments?.[0];
  return undefined;
}

function propName(m: ts.TypeElement): string | undefined {
  if (!ts.isPropertySignature(m)) return undefined;
  return ts.isIdentifier(m.name) || ts.isStringLiteral(m.name) ? m.name.text : undefined;
}

// ---- the comparison ----

const LONGS = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const NUMBERS = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32', 'float', 'double']);

class WireCheck {
  readonly problems: string[] = [];
  /** Proto full names each wire.ts name was found to stand for. */
  readonly mapped = new Map<string, string[]>();

  constructor(
    readonly root: protobuf.Root,
    readonly decls: Map<string, Decl>,
  ) {}

  /** The proto messages or enums a wire.ts name stands for (empty when proto has none). */
  protoNamesOf(name: string): string[] {
    const explicit = PROTO_NAMES[name];
    if (explicit) return explicit.filter((n) => lookup(this.root, n));
    for (const candidate of [name, name.replace(/Message$/, ''), name.replace(/Name$/, '')]) {
      const full = `${PROTO_PACKAGE}.${candidate}`;
      const obj = lookup(this.root, full);
      if (obj instanceof protobuf.Type || obj instanceof protobuf.Enum) return [full];
    }
    return [];
  }

  /** Every interface and type alias of wire.ts is a proto message or enum with the same shape. */
  checkDeclarations(): void {
    for (const [name, decl] of this.decls) {
      if (NOT_PROTO.has(name)) continue;
      const targets = this.protoNamesOf(name);
      this.mapped.set(name, targets);
      if (targets.length === 0) {
        this.problems.push(`${WIRE}: ${name} is no message or enum of proto/`);
        continue;
      }
      for (const target of targets) {
        const obj = lookup(this.root, target)!;
        if (obj instanceof protobuf.Type) {
          if (decl.kind === 'interface') this.checkMessage(decl.members, obj, name);
          else if (refName(decl.type) === 'Record') {
            if (obj.fieldsArray.length) this.problems.push(`${name}: declared empty, but ${target} has fields`);
          } else this.problems.push(`${name}: ${target} is a message, wire.ts declares it as ${decl.type.getText()}`);
        } else if (obj instanceof protobuf.Enum) {
          if (decl.kind === 'alias') this.checkEnumLiterals(unionMembers(decl.type), obj, name, true);
          else this.problems.push(`${name}: ${target} is an enum, wire.ts declares an interface`);
        }
      }
    }
  }

  /** The properties of an interface or inline type against a proto message. */
  checkMessage(members: ts.NodeArray<ts.TypeElement>, type: protobuf.Type, where: string): void {
    for (const m of members) {
      const name = propName(m);
      if (!name || !ts.isPropertySignature(m) || !m.type) {
        this.problems.push(`${where}: ${m.getText()} is not a plain property`);
        continue;
      }
      const at = `${where}.${name}`;
      const oneof = type.oneofs?.[name];
      if (oneof && !isSyntheticOneof(oneof)) {
        // proto-loader's `oneofs: true`: a property named after the oneof holds the set member's name.
        const literals = unionMembers(m.type).map(stringLiteral);
        if (literals.some((l) => l === undefined))
          this.problems.push(`${at}: oneof ${name} holds a field name, wire.ts says ${m.type.getText()}`);
        else this.sameSet(literals as string[], oneof.oneof, `${at}: members of oneof ${type.fullName}.${name}`);
        if (!m.questionToken) this.problems.push(`${at}: the decoder sets oneof ${name} only when a member is set; mark it optional`);
        continue;
      }
      const field = type.fields[name];
      if (!field) {
        this.problems.push(
          `${at}: ${type.fullName.replace(/^\./, '')} has no field ${name} (fields: ${Object.keys(type.fields).join(', ')})`,
        );
        continue;
      }
      if (field.partOf && !m.questionToken) {
        const why = isSyntheticOneof(field.partOf) ? 'is optional in proto' : `is in oneof ${field.partOf.name}`;
        this.problems.push(`${at}: ${why}, so a decoded message may lack it; mark it optional`);
      }
      this.checkField(m.type, field, at);
    }
  }

  checkField(node: ts.TypeNode, field: protobuf.Field, at: string): void {
    if (field.map) {
      this.problems.push(`${at}: map fields are not supported by this check`);
      return;
    }
    if (field.repeated) {
      const members = unionMembers(node);
      const element = members.length === 1 ? elementOf(members[0]!) : undefined;
      if (!element) this.problems.push(`${at}: repeated in proto, wire.ts says ${node.getText()}`);
      else this.checkValue(element, field, `${at}[]`);
      return;
    }
    if (unionMembers(node).some((n) => elementOf(n))) {
      this.problems.push(`${at}: not repeated in proto, wire.ts says ${node.getText()}`);
      return;
    }
    this.checkValue(node, field, at);
  }

  /** One value of a field (an element of a repeated field). */
  checkValue(node: ts.TypeNode, field: protobuf.Field, at: string): void {
    const members = unionMembers(node);
    const resolved = field.resolvedType;
    const nonNull = members.filter((n) => !isNull(n));
    if (nonNull.length === 0) this.problems.push(`${at}: no value type`);
    if (resolved instanceof protobuf.Type) {
      for (const n of nonNull) {
        if (ts.isTypeLiteralNode(n)) this.checkMessage(n.members, resolved, at);
        else {
          const ref = refName(n);
          const full = resolved.fullName.replace(/^\./, '');
          if (!ref || !this.protoNamesOf(ref).includes(full)) this.problems.push(`${at}: proto type ${full}, wire.ts says ${n.getText()}`);
        }
      }
      return;
    }
    if (members.length !== nonNull.length) this.problems.push(`${at}: only message fields decode to null, wire.ts allows null`);
    if (resolved instanceof protobuf.Enum) {
      this.checkEnumLiterals(nonNull, resolved, at, false);
      return;
    }
    const expected =
      field.type === 'string' || LONGS.has(field.type)
        ? 'string'
        : field.type === 'bool'
          ? 'boolean'
          : NUMBERS.has(field.type)
            ? 'number'
            : 'bytes';
    for (const n of nonNull) {
      const text = n.getText();
      const ok =
        expected === 'bytes'
          ? ['Buffer', 'Uint8Array'].includes(refName(n) ?? '')
          : text === expected || (LONGS.has(field.type) && text === 'number');
      if (!ok)
        this.problems.push(`${at}: proto ${field.type}${LONGS.has(field.type) ? ' (decoded as a string)' : ''}, wire.ts says ${text}`);
    }
  }

  /**
   * An enum's type in wire.ts: its value names (all of them, once), a wire.ts alias standing for the
   * enum, `number` (encoding accepts numbers) or `string`. A declared alias (`exact`) lists names only.
   */
  checkEnumLiterals(members: ts.TypeNode[], en: protobuf.Enum, at: string, exact: boolean): void {
    const full = en.fullName.replace(/^\./, '');
    const literals: string[] = [];
    let loose = false;
    for (const n of members) {
      const lit = stringLiteral(n);
      const ref = refName(n);
      if (lit !== undefined) literals.push(lit);
      else if (!exact && ref && this.protoNamesOf(ref).includes(full)) loose = true;
      else if (!exact && (n.kind === ts.SyntaxKind.NumberKeyword || n.kind === ts.SyntaxKind.StringKeyword))
        loose ||= n.kind === ts.SyntaxKind.StringKeyword;
      else this.problems.push(`${at}: enum ${full}, wire.ts says ${n.getText()}`);
    }
    if (literals.length || !loose) this.sameSet(literals, Object.keys(en.values), `${at}: values of enum ${full}`);
  }

  sameSet(actual: string[], expected: string[], what: string): void {
    const missing = expected.filter((e) => !actual.includes(e));
    const extra = actual.filter((a) => !expected.includes(a));
    const twice = actual.filter((a, i) => actual.indexOf(a) !== i);
    if (missing.length || extra.length || twice.length)
      this.problems.push(
        `${what}: ${[missing.length ? `missing ${missing.join(', ')}` : '', extra.length ? `not in proto ${extra.join(', ')}` : '', twice.length ? `twice ${twice.join(', ')}` : ''].filter(Boolean).join('; ')}`,
      );
  }
}

// ---- the table of calls ----

interface DeclaredCall {
  service: string;
  method: string;
  request: ts.TypeNode;
  response: ts.TypeNode;
  kind: string | undefined;
}

function declaredCalls(decls: Map<string, Decl>): DeclaredCall[] {
  const table = decls.get('OpenObdCalls');
  assert.ok(table?.kind === 'interface', `${WIRE} declares the calls the package makes in interface OpenObdCalls`);
  const out: DeclaredCall[] = [];
  for (const s of table.members) {
    const service = propName(s)!;
    assert.ok(
      ts.isPropertySignature(s) && s.type && ts.isTypeLiteralNode(s.type),
      `OpenObdCalls.${service} is a { method: OpenObdCall<…> } literal`,
    );
    for (const m of s.type.members) {
      const method = propName(m)!;
      const call =
        ts.isPropertySignature(m) && m.type && ts.isTypeReferenceNode(m.type) && refName(m.type) === 'OpenObdCall' ? m.type : undefined;
      assert.ok(call?.typeArguments?.length === 3, `OpenObdCalls.${service}.${method} is OpenObdCall<kind, request, response>`);
      const [kind, request, response] = call.typeArguments;
      out.push({ service, method, request: request!, response: response!, kind: stringLiteral(kind!) });
    }
  }
  return out;
}

const KINDS: Record<string, [boolean, boolean]> = {
  unary: [false, false],
  clientStream: [true, false],
  serverStream: [false, true],
  bidi: [true, true],
};

/** The .ts files below a folder of the package, as repository paths. */
const tsFilesIn = (dir: string): string[] =>
  (fs.readdirSync(path.join(ROOT, dir), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => path.join(dir, f));

/** Where the client and the nodes name each proto method as a quoted string (the wire name of a call). */
function namedMethods(root: protobuf.Root): Map<string, string> {
  const names = new Set<string>();
  const services = (root.lookup(PROTO_PACKAGE) as protobuf.Namespace).nestedArray.filter(
    (o): o is protobuf.Service => o instanceof protobuf.Service,
  );
  for (const s of services) for (const m of s.methodsArray) names.add(m.name);
  const found = new Map<string, string>();
  for (const file of ['client', 'nodes'].flatMap(tsFilesIn)) {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    for (const match of text.matchAll(/'([A-Za-z0-9]+)'/g)) if (names.has(match[1]!) && !found.has(match[1]!)) found.set(match[1]!, file);
  }
  return found;
}

describe('protocol/wire.ts matches proto/', function () {
  const root = protoRoot();
  const { decls } = parse(WIRE);
  const check = new WireCheck(root, decls);

  it('is read with field names as proto spells them (keepCase), enums as names and 64-bit integers as strings', function () {
    assert.equal(LOADER_OPTIONS.keepCase, true);
    assert.equal(LOADER_OPTIONS.enums, String);
    assert.equal(LOADER_OPTIONS.longs, String);
    assert.equal(LOADER_OPTIONS.oneofs, true);
    assert.equal(LOADER_OPTIONS.defaults, true);
  });

  it('declares only messages and enums proto/ has, with its field names, types, labels, oneofs and enum values', function () {
    check.checkDeclarations();
    assert.deepEqual(check.problems, []);
    assert.ok(check.mapped.size >= 40, `read ${check.mapped.size} declarations of ${WIRE}`);
  });

  it('declares only calls proto/ has, with their messages and streaming kinds', function () {
    const calls = declaredCalls(decls);
    const problems: string[] = [];
    for (const c of calls) {
      const at = `OpenObdCalls.${c.service}.${c.method}`;
      const service = root.lookup(`${PROTO_PACKAGE}.${c.service}`);
      const method = service instanceof protobuf.Service ? service.methods[c.method] : undefined;
      if (!method) {
        problems.push(`${at}: proto/ has no such call`);
        continue;
      }
      method.resolve();
      for (const [node, type, what] of [
        [c.request, method.resolvedRequestType!, 'request'],
        [c.response, method.resolvedResponseType!, 'response'],
      ] as const) {
        const full = type.fullName.replace(/^\./, '');
        if (!check.protoNamesOf(refName(node) ?? '').includes(full))
          problems.push(`${at}: ${what} is ${full}, wire.ts says ${node.getText()}`);
      }
      const kind = c.kind && KINDS[c.kind];
      if (!kind) problems.push(`${at}: kind ${c.kind} is none of ${Object.keys(KINDS).join(', ')}`);
      else if (kind[0] !== !!method.requestStream || kind[1] !== !!method.responseStream)
        problems.push(
          `${at}: ${c.kind}, but proto streams ${method.requestStream ? 'requests' : 'no requests'} and ${method.responseStream ? 'responses' : 'no responses'}`,
        );
    }
    assert.deepEqual(problems, []);
    assert.ok(calls.length >= 10, `read ${calls.length} calls`);
  });

  it('declares every call the client and the nodes name, and names every call it declares', function () {
    const declared = new Set(declaredCalls(decls).map((c) => c.method));
    const named = namedMethods(root);
    const undeclared = [...named].filter(([m]) => !declared.has(m)).map(([m, file]) => `${m} (named in ${file})`);
    const unnamed = [...declared].filter((m) => !named.has(m));
    assert.deepEqual({ undeclared, unnamed }, { undeclared: [], unnamed: [] });
  });

  it('names exactly the services of proto/ (ServiceName)', function () {
    const { decls: protoDecls } = parse(path.join('protocol', 'proto.ts'));
    const serviceName = protoDecls.get('ServiceName');
    assert.ok(serviceName?.kind === 'alias');
    const names = unionMembers(serviceName.type).map(stringLiteral);
    const services = (root.lookup(PROTO_PACKAGE) as protobuf.Namespace).nestedArray
      .filter((o) => o instanceof protobuf.Service)
      .map((s) => s.name);
    assert.deepEqual([...names].sort(), [...services].sort());
    const calls = new Set(declaredCalls(decls).map((c) => c.service));
    assert.deepEqual(
      [...calls].filter((s) => !services.includes(s)),
      [],
    );
  });
});

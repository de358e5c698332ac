/**
 * The openOBD wire interface, shared by the client library, the simulator and the tests: the proto files
 * loaded once per process, the service and method definitions, and TypeScript shapes of the messages.
 * Nothing here knows about sessions or Node-RED.
 */
export {
  LOADER_OPTIONS,
  PROTO_PACKAGE,
  PROTO_ROOT,
  method,
  openObdDefinition,
  serviceDefinition,
  type AnyMethod,
  type ServiceName,
} from './proto';
export { canIdText, hexByte, hexNumber, hexToBytes, toHex, toSpacedHex } from './hex';
export { STRUCT_TYPE_URL, decodeStruct, encodeStruct, type JsonValue } from './struct';
export type * from './wire';
export { RESULT_NAMES, USER_FEEDBACK_NAMES } from './wire';
export { DOIP_OPTION_PINS, busPins, doipOptionNumber, pinClash } from './bus-pins';

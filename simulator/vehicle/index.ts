/** The simulated vehicle: JSON-defined ECUs answering UDS and OBD-II requests (no gRPC, no timers). */
export { SimulatedVehicle, loadVehicle, bundledVehicleNames, type EcuReply, type EcuFrame, type EcuStatus } from './vehicle';
export { computeKey, NRC } from './ecu';
export { compileVehicle, VehicleDefinitionError } from './definition';
export { hasValidCheckDigit, isWellFormedVin, vinCheckDigit } from './vin';
export type * from './types';

/**
 * The embedded openOBD simulator: a real gRPC server speaking the openOBD wire protocol in front of
 * simulated cars, for the examples, the quick start and every test.
 */
export {
  OpenObdSimulator,
  DEFAULT_SIMULATOR_CREDENTIALS,
  FIRST_TICKET,
  connectorIdFor,
  plannedVehicles,
  type SimulatorOptions,
} from './simulator';
export { Faults, type EcuSelector } from './faults';
export {
  SimulatedTechnician,
  TechnicianAnswerError,
  type UiScript,
  type ScreenControl,
  type ScreenControlType,
  type TechnicianCar,
  type TechnicianView,
} from './technician';
export {
  SimulatedFunctions,
  DASHBOARD_CALLER,
  type DashboardRun,
  type DashboardFunction,
  type FunctionBrokerOptions,
  type Registration,
} from './functions';
export { loadVehicle, SimulatedVehicle } from './vehicle/vehicle';
export type { VehicleDefinition, EcuDefinition } from './vehicle/types';

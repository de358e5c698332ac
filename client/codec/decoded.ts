/**
 * What the UDS and the KWP2000 decoders share (decode.ts, kwp.ts): the shape of a decoded answer and the
 * names of the standardised identification DIDs.
 */

export type DecodedResponse = Record<string, unknown>;

/** Standardised identification DIDs (ISO 14229-1 Annex C). */
export const DID_NAMES: Readonly<Record<number, string>> = {
  0xf180: 'bootSoftwareIdentification',
  0xf181: 'applicationSoftwareIdentification',
  0xf182: 'applicationDataIdentification',
  0xf183: 'bootSoftwareFingerprint',
  0xf184: 'applicationSoftwareFingerprint',
  0xf185: 'applicationDataFingerprint',
  0xf186: 'activeDiagnosticSession',
  0xf187: 'vehicleManufacturerSparePartNumber',
  0xf188: 'vehicleManufacturerECUSoftwareNumber',
  0xf189: 'vehicleManufacturerECUSoftwareVersionNumber',
  0xf18a: 'systemSupplierIdentifier',
  0xf18b: 'ECUManufacturingDate',
  0xf18c: 'ECUSerialNumber',
  0xf18d: 'supportedFunctionalUnits',
  0xf18e: 'vehicleManufacturerKitAssemblyPartNumber',
  0xf190: 'VIN',
  0xf191: 'vehicleManufacturerECUHardwareNumber',
  0xf192: 'systemSupplierECUHardwareNumber',
  0xf193: 'systemSupplierECUHardwareVersionNumber',
  0xf194: 'systemSupplierECUSoftwareNumber',
  0xf195: 'systemSupplierECUSoftwareVersionNumber',
  0xf196: 'exhaustRegulationOrTypeApprovalNumber',
  0xf197: 'systemNameOrEngineType',
  0xf198: 'repairShopCodeOrTesterSerialNumber',
  0xf199: 'programmingDate',
  0xf19a: 'calibrationRepairShopCodeOrCalibrationEquipmentSerialNumber',
  0xf19b: 'calibrationDate',
  0xf19c: 'calibrationEquipmentSoftwareNumber',
  0xf19d: 'ECUInstallationDate',
  0xf19e: 'ODXFile',
  0xf19f: 'entity',
};

import type { BusConfigurationMessage } from './wire';

/**
 * Pins of the vehicle's diagnostic connector (ISO 15031-3 / SAE J1962) that a bus definition occupies.
 * openOBD refuses two buses on the same pins (openOBD documentation, "Vehicle communication"), so the
 * client checks a bus set before it sends it and the simulator checks it when it receives it.
 */

/** Ethernet pin assignment options of ISO 13400-4 (DoIP), each with the Ethernet activation line on pin 8. */
export const DOIP_OPTION_PINS: Readonly<Record<1 | 2, readonly number[]>> = {
  1: [3, 11, 12, 13, 8],
  2: [1, 9, 12, 13, 8],
};

/** The option number of a DoipOption value ('DOIP_OPTION_1' or 1), or undefined. */
export function doipOptionNumber(value: unknown): 1 | 2 | undefined {
  if (value === 'DOIP_OPTION_1' || value === 1) return 1;
  if (value === 'DOIP_OPTION_2' || value === 2) return 2;
  return undefined;
}

/** The connector pins a bus uses; a DoIP bus with an unknown option uses none that can be named. */
export function busPins(bus: BusConfigurationMessage): number[] {
  if (bus.can_bus) return [bus.can_bus.pin_plus, bus.can_bus.pin_min];
  if (bus.kline_bus) return [bus.kline_bus.pin];
  if (bus.terminal15_bus) return [bus.terminal15_bus.pin];
  if (bus.doip_bus) {
    const option = doipOptionNumber(bus.doip_bus.doip_option);
    return option ? [...DOIP_OPTION_PINS[option]] : [];
  }
  return [];
}

/** The first pair of buses in `buses` that share a pin, or undefined when none do. */
export function pinClash(buses: readonly BusConfigurationMessage[]): { pin: number; first: string; second: string } | undefined {
  const owner = new Map<number, string>();
  for (const bus of buses) {
    for (const pin of new Set(busPins(bus))) {
      const other = owner.get(pin);
      if (other !== undefined && other !== bus.bus_name) return { pin, first: other, second: bus.bus_name };
      owner.set(pin, bus.bus_name);
    }
  }
  return undefined;
}

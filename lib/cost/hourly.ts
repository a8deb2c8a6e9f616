/**
 * What one instance of a fleet costs per hour, priced the way the estimate prices it (spot at
 * the cheapest configured type, on-demand at the first), for the dashboard's cost-per-hour line.
 * Pure.
 */
import type { FleetSpec } from '../config/fleet-config';
import type { PriceBook } from './price-book';

/** USD per instance-hour; for a spot fleet with an on-demand base, the spot price (the base is usually small). */
export function instanceHourlyPrice(fleet: Pick<FleetSpec, 'computeType' | 'instanceTypes'>, prices: PriceBook): number {
  if (fleet.computeType === 'on-demand') return prices.price(fleet.instanceTypes[0], 'onDemand').usdPerHour;
  return Math.min(...fleet.instanceTypes.map((type) => prices.price(type, 'spot').usdPerHour));
}

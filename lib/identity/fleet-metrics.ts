/**
 * CloudWatch metric naming shared by the instance scripts' renderer, the constructs, the
 * Lambdas and the CLI. Pure: no CDK or AWS SDK imports.
 *
 * Every fleet metric lives in one namespace with the fleet name as its only dimension, so a
 * fleet's metrics cost the same however many instances it has, and dashboards and alarms
 * can be built from the fleet name alone.
 */

/** The CloudWatch namespace of every metric the fleets publish. */
export const FLEET_METRIC_NAMESPACE = 'GitLabRunnerFleet';

/** The dimension naming the fleet a datapoint belongs to. */
export const FLEET_METRIC_DIMENSION = 'Fleet';

/** Dimensions of a fleet's metrics: the fleet name, nothing per instance. */
export function fleetMetricDimensions(fleetName: string): Record<string, string> {
  return { [FLEET_METRIC_DIMENSION]: fleetName };
}

/**
 * CloudWatch embedded metric format: a metric is a JSON log line, so publishing costs no API
 * call and no latency, and CloudWatch extracts it from the Lambda's log group. Pure.
 */
import { FLEET_METRIC_DIMENSION, FLEET_METRIC_NAMESPACE } from '../../identity/fleet-metrics';

export type MetricUnit = 'Count' | 'Seconds' | 'None';

/** One EMF record with the fleet as the only dimension. */
export function fleetMetricRecord(
  fleetName: string,
  values: Readonly<Record<string, number>>,
  units: Readonly<Record<string, MetricUnit>> = {},
  timestampMs: number = Date.now(),
): Record<string, unknown> {
  const names = Object.keys(values).sort();
  return {
    _aws: {
      Timestamp: timestampMs,
      CloudWatchMetrics: [
        {
          Namespace: FLEET_METRIC_NAMESPACE,
          Dimensions: [[FLEET_METRIC_DIMENSION]],
          Metrics: names.map((name) => ({ Name: name, Unit: units[name] ?? 'Count' })),
        },
      ],
    },
    [FLEET_METRIC_DIMENSION]: fleetName,
    ...Object.fromEntries(names.map((name) => [name, values[name]])),
  };
}

/** The JSON Schema of the fleet configuration file, generated from the zod schema. */
import { z } from 'zod';
import { fleetConfigSchema } from './schema';

export function fleetConfigJsonSchema(): Record<string, unknown> {
  // `io: 'input'` describes what a person writes (defaults optional), not the parsed result.
  const schema = z.toJSONSchema(fleetConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'https://github.com/gitlab-runner-fleet/gitlab-runner-fleet/fleet.schema.json',
    title: 'gitlab-runner-fleet configuration',
    description: 'One file that drives the CDK app, the Service Catalog product and the cost estimate.',
  };
}

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fleetConfigJsonSchema } from '../../lib/config/json-schema';

describe('the JSON Schema for editors', () => {
  it('is committed as fleet.schema.json and current with the zod schema (run `npm run schema` after changing it)', () => {
    const committed = JSON.parse(readFileSync('fleet.schema.json', 'utf8'));
    expect(committed).toEqual(fleetConfigJsonSchema());
  });

  it('rejects unknown keys and requires what the loader requires', () => {
    const schema = fleetConfigJsonSchema() as {
      additionalProperties: boolean;
      required: string[];
      properties: Record<string, { items?: { required?: string[] } }>;
    };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(['gitlab', 'fleets']);
    expect(schema.properties.fleets.items?.required).toEqual(['name', 'computeType', 'instanceTypes', 'capacity']);
  });
});

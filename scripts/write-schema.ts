/**
 * Writes the files generated from the zod schema (lib/config/schema.ts), so they cannot drift:
 * - fleet.schema.json, the JSON Schema, so editors (yaml-language-server, VS Code) autocomplete
 *   and check fleet.config.yaml as it is typed;
 * - docs/configuration.md, the configuration reference: every key, its default and bounds.
 * `npm run schema`; tests fail when a committed file is stale.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { configurationReference } from '../lib/config/config-reference';
import { fleetConfigJsonSchema } from '../lib/config/json-schema';

const outputs: Record<string, string> = {
  'fleet.schema.json': `${JSON.stringify(fleetConfigJsonSchema(), null, 2)}\n`,
  'docs/configuration.md': configurationReference(),
};
for (const [file, content] of Object.entries(outputs)) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
  console.log(`wrote ${file}`);
}

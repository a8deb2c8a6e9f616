/**
 * Writes fleet.schema.json, the JSON Schema of the fleet configuration, so editors
 * (yaml-language-server, VS Code) autocomplete and check fleet.config.yaml as it is typed.
 * `npm run schema`; the committed file is checked against the schema by a test.
 */
import { writeFileSync } from 'node:fs';
import { fleetConfigJsonSchema } from '../lib/config/json-schema';

const file = process.argv[2] ?? 'fleet.schema.json';
writeFileSync(file, `${JSON.stringify(fleetConfigJsonSchema(), null, 2)}\n`);
console.log(`wrote ${file}`);

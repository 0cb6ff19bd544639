// Writes every file derived from the source of truth (run: npm run generate). A test fails when a
// committed file differs from what this writes.
import { writeFileSync } from 'node:fs';
import { configJsonSchemaText } from '../src/config/json-schema.js';

export const GENERATED: Record<string, () => string> = {
  'config.schema.json': configJsonSchemaText,
};

for (const [file, make] of Object.entries(GENERATED)) {
  writeFileSync(file, make());
  console.log(`wrote ${file}`);
}

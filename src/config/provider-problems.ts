import { Value } from './typebox.js';
import { configSchema } from './schema.js';

const providersSchema = configSchema.properties.providers;
const entrySchema = providersSchema.items;
const KEYS = Object.keys(entrySchema.properties);
const PRESETS = entrySchema.properties.preset.anyOf.map((literal) => literal.const);
/** Values of these keys are secrets: a problem never shows them. */
const SECRET_KEYS = new Set(['clientSecret', 'privateKey']);

/**
 * One line per mistake in the `providers` setting, `providers[i] (id "x"): problem`, as the
 * provider presets word theirs: an unknown preset, an id that is not lowercase, an unknown key…
 * Returns [] when the value is an array whose entries are each of the right shape.
 */
export function describeProviderProblems(value: unknown): string[] {
  if (!Array.isArray(value)) return ['must be a JSON array of providers ({ "id", "preset", "clientId", "clientSecret", … }; see the configuration reference)'];
  const problems: string[] = [];
  if (value.length > (providersSchema.maxItems ?? Infinity)) problems.push(`must list at most ${providersSchema.maxItems} providers`);
  value.forEach((entry: unknown, index) => {
    const id = typeof entry === 'object' && entry !== null && typeof (entry as { id?: unknown }).id === 'string' ? (entry as { id: string }).id : undefined;
    const prefix = `providers[${index}]${id === undefined ? '' : ` (id ${JSON.stringify(id)})`}`;
    for (const problem of entryProblems(entry)) problems.push(`${prefix}: ${problem}`);
  });
  return problems;
}

function entryProblems(entry: unknown): string[] {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return ['must be a JSON object'];
  const record = entry as Record<string, unknown>;
  const problems = new Map<string, string>();
  for (const key of Object.keys(record)) {
    if (!KEYS.includes(key)) problems.set(key, `unknown key ${JSON.stringify(key)} (known: ${KEYS.join(', ')})`);
  }
  for (const error of Value.Errors(entrySchema, entry)) {
    const key = error.path.split('/')[1] ?? '';
    if (key === '' || problems.has(key)) continue;
    const shown = SECRET_KEYS.has(key) ? '' : ` (got ${JSON.stringify(record[key])})`;
    if (record[key] === undefined) problems.set(key, `${key} is required`);
    else if (key === 'id') problems.set(key, `id must be 1 to 32 lowercase letters, digits or dashes, starting with a letter or digit${shown}`);
    else if (key === 'preset') problems.set(key, `unknown preset${shown}: use one of ${PRESETS.join(', ')}`);
    else problems.set(key, `${error.path.slice(1).replaceAll('/', '.')}: ${error.message.toLowerCase()}${shown}`);
  }
  return [...problems.values()];
}

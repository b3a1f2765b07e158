/** Query and form fields as the OAuth routes read them: strings, a repeated field as an array. */
export type Fields = Record<string, string | string[]>;

/** The string fields of a parsed query or form body; anything else (objects, numbers) is dropped. */
export function stringFields(source: unknown, options: { without?: ReadonlySet<string> } = {}): Fields {
  const fields: Fields = {};
  if (typeof source !== 'object' || source === null) return fields;
  for (const [name, value] of Object.entries(source as Record<string, unknown>)) {
    if (options.without?.has(name)) continue;
    if (typeof value === 'string') fields[name] = value;
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) fields[name] = value as string[];
  }
  return fields;
}

/** The fields of a URL's query, a repeated field as an array. */
export function searchFields(search: URLSearchParams): Fields {
  const fields: Fields = {};
  for (const [name, value] of search) {
    const previous = fields[name];
    fields[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return fields;
}

/** Fields back into a query string (the inverse of {@link searchFields}). */
export function toQuery(fields: Fields): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) for (const v of Array.isArray(value) ? value : [value]) search.append(name, v);
  return search.toString();
}

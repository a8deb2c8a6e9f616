/**
 * Reading a fleet configuration file (YAML or JSON) into a validated {@link FleetConfig}.
 * Every problem is collected and thrown together as a {@link ConfigError}.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError, formatPath, type ConfigProblem } from './errors';
import { normalizeFleetConfig, type FleetConfig } from './fleet-config';
import { crossFieldProblems, fleetConfigSchema } from './schema';

/** Default config file, relative to the working directory. */
export const DEFAULT_CONFIG_FILE = 'fleet.config.yaml';

/** Loads, parses and validates a config file. Throws {@link ConfigError} on any problem. */
export function loadFleetConfig(file: string = DEFAULT_CONFIG_FILE): FleetConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message;
    throw new ConfigError(file, [{ path: '', message: reason }]);
  }
  return parseFleetConfigText(text, file);
}

/**
 * Alias resolutions a document may make (the YAML library's `maxAliasCount`, which weighs nested
 * aliases by their own expansions): one per character of the document, at least the library's
 * default of 100. A 1,000-fleet file sharing one schedule by alias needs 1,000; an alias bomb
 * needs exponentially many resolutions for its size and still fails.
 */
export function aliasBudget(text: string): number {
  return Math.max(100, text.length);
}

/**
 * Values the document may expand to (aliases count their whole target each time): 20 per
 * character of the document, at least 100,000. Aliased values are shared in memory, but every
 * reader (validation, synth) walks each copy, so this bounds their work too.
 */
export function expandedValueBudget(text: string): number {
  return Math.max(100_000, 20 * text.length);
}

/** Parses YAML or JSON text (JSON is YAML) and validates it. */
export function parseFleetConfigText(text: string, source = 'config'): FleetConfig {
  const json = parseJsonText(text);
  if (json) return parseFleetConfig(json.raw, source);
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new ConfigError(
      source,
      document.errors.map((e) => ({ path: '', message: `YAML: ${e.message.split('\n')[0]}` })),
    );
  }
  let raw: unknown;
  try {
    raw = document.toJS({ maxAliasCount: aliasBudget(text) });
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error;
    throw new ConfigError(source, [{ path: '', message: `YAML: ${aliasProblem(text)}` }]);
  }
  if (!withinExpandedBudget(raw, expandedValueBudget(text))) {
    throw new ConfigError(source, [{ path: '', message: `YAML: ${aliasProblem(text)}` }]);
  }
  return parseFleetConfig(raw, source);
}

/**
 * JSON text, as generators write big configs, read with JSON.parse: the same value the YAML
 * parser gives (JSON is YAML) a hundred times faster. Undefined for anything else, and for JSON
 * with a repeated key, so the YAML parser reads it and reports what it always reports.
 */
function parseJsonText(text: string): { raw: unknown } | undefined {
  if (!text.trimStart().startsWith('{')) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  return hasRepeatedKey(text) ? undefined : { raw };
}

/** True when an object in valid JSON text names a key twice (JSON.parse would keep the last silently). */
function hasRepeatedKey(text: string): boolean {
  const scopes: Array<Set<string> | undefined> = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const keys = scopes[scopes.length - 1];
      if (keys && expectKey) {
        const quoted = text.slice(i, end + 1);
        const key = quoted.includes('\\') ? (JSON.parse(quoted) as string) : quoted.slice(1, -1);
        if (keys.has(key)) return true;
        keys.add(key);
        expectKey = false;
      }
      i = end;
    } else if (c === '{') {
      scopes.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      scopes.push(undefined);
    } else if (c === '}' || c === ']') {
      scopes.pop();
      expectKey = false;
    } else if (c === ',') {
      expectKey = scopes[scopes.length - 1] !== undefined;
    }
  }
  return false;
}

function aliasProblem(text: string): string {
  return `aliases expand to more than this document's budget (${aliasBudget(text)} alias resolutions, ${expandedValueBudget(text)} values); nested aliases multiply, so reuse a value by one alias per use, not aliases of aliases`;
}

/** True when the value tree, with every aliased copy counted, holds at most `budget` values. */
function withinExpandedBudget(root: unknown, budget: number): boolean {
  let remaining = budget;
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (--remaining < 0) return false;
    if (Array.isArray(value)) stack.push(...value);
    else if (value !== null && typeof value === 'object') stack.push(...Object.values(value));
  }
  return true;
}

/** Validates an already-parsed object. */
export function parseFleetConfig(raw: unknown, source = 'config'): FleetConfig {
  const result = fleetConfigSchema.safeParse(raw);
  const problems = result.success ? [] : describeIssues(result.error.issues, raw);
  for (const problem of crossFieldProblems(raw)) {
    if (!problems.some((p) => p.path === problem.path && p.message === problem.message)) problems.push(problem);
  }
  if (!result.success || problems.length > 0) throw new ConfigError(source, sortByPath(problems));
  return normalizeFleetConfig(result.data);
}

function describeIssues(issues: readonly z.core.$ZodIssue[], raw: unknown): ConfigProblem[] {
  return issues.flatMap((issue): ConfigProblem[] => {
    const path = formatPath(issue.path);
    const missing = valueAt(raw, issue.path) === undefined;
    switch (issue.code) {
      case 'unrecognized_keys':
        return issue.keys.map((key) => ({
          path: formatPath([...issue.path, key]),
          message: `unknown key; allowed here: ${allowedKeys(issue.path).join(', ')}`,
        }));
      case 'invalid_value': {
        const allowed = issue.values.map((v) => JSON.stringify(v)).join(', ');
        return [
          { path, message: missing ? `is required (one of ${allowed})` : `${given(raw, issue.path)}is not allowed; allowed: ${allowed}` },
        ];
      }
      case 'invalid_type': {
        const expected = issue.expected === 'int' ? 'a whole number' : `${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`;
        return [{ path, message: missing ? `is required (${expected})` : `${given(raw, issue.path)}must be ${expected}` }];
      }
      default:
        return [{ path, message: issue.message }];
    }
  });
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let value: unknown = raw;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** The offending value and a space, for messages about a value that is present. */
function given(raw: unknown, path: readonly PropertyKey[]): string {
  return `${JSON.stringify(valueAt(raw, path))} `;
}

/** The keys the schema accepts at a path, for "unknown key" messages. */
function allowedKeys(path: readonly PropertyKey[]): string[] {
  let schema: z.core.$ZodType = fleetConfigSchema;
  for (const key of path) {
    schema = unwrap(schema);
    const def = schema._zod.def as unknown as {
      type: string;
      shape?: Record<string, z.core.$ZodType>;
      element?: z.core.$ZodType;
      valueType?: z.core.$ZodType;
    };
    if (def.type === 'object' && def.shape && typeof key === 'string') schema = def.shape[key];
    else if (def.type === 'array' && def.element) schema = def.element;
    // Under a record (e.g. cost.prices.<instance type>) any key is allowed; the entry's own keys come from its value schema.
    else if (def.type === 'record' && def.valueType) schema = def.valueType;
    else return [];
  }
  const def = unwrap(schema)._zod.def as unknown as { shape?: Record<string, unknown> };
  return Object.keys(def.shape ?? {}).filter((k) => k !== '$schema');
}

function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let current = schema;
  for (;;) {
    const def = current._zod.def as unknown as { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType };
    if ((def.type === 'optional' || def.type === 'default' || def.type === 'nullable' || def.type === 'prefault') && def.innerType)
      current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else return current;
  }
}

/** Problems in file order: by path, with array indexes compared as numbers. */
function sortByPath(problems: ConfigProblem[]): ConfigProblem[] {
  const key = (path: string) => path.replace(/\[(\d+)\]/g, (_m, n: string) => `[${n.padStart(6, '0')}]`);
  return [...problems].sort((a, b) => (key(a.path) < key(b.path) ? -1 : key(a.path) > key(b.path) ? 1 : 0));
}

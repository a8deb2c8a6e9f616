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
    throw ConfigError.ofFile(file, readProblem(file, (error as NodeJS.ErrnoException).code));
  }
  return parseFleetConfigText(text, file);
}

function readProblem(file: string, code: string | undefined): string {
  switch (code) {
    case 'ENOENT':
      return 'file not found; pass the path of your config with --config <file> (the default is fleet.config.yaml in the current folder)';
    case 'EISDIR':
      return `is a folder, not a file; pass the config file inside it, e.g. --config ${file.replace(/\/+$/, '')}/${DEFAULT_CONFIG_FILE}`;
    case 'EACCES':
    case 'EPERM':
      return 'cannot be read: permission denied';
    default:
      return `cannot be read (${code ?? 'unknown error'})`;
  }
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

/**
 * Parses YAML or JSON text and validates it. A source ending in `.json` is read as JSON, so its
 * syntax errors are JSON's; anything else as YAML. A syntax error stops there: the first one is
 * reported with its line, column and the line itself, since later ones are usually its echoes.
 */
export function parseFleetConfigText(text: string, source = 'config'): FleetConfig {
  // Valid JSON (as generators write big configs) takes JSON.parse's fast path whatever the file is called.
  const json = parseJsonText(text);
  const raw = json ? json.raw : /\.json$/i.test(source) ? parseJson(text, source) : parseYaml(text, source);
  if (raw === undefined) {
    throw ConfigError.ofFile(
      source,
      'the file is empty (nothing but blank lines or comments); start from fleet.config.yaml or a file in examples/',
    );
  }
  return parseFleetConfig(raw, source);
}

function parseYaml(text: string, source: string): unknown {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const [first] = document.errors;
  if (first) {
    const reason = first.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    let { line, col } = first.linePos?.[0] ?? { line: 1, col: 1 };
    // An error found at the start of a blank line (often the end of the file) belongs to the end of the last line with text.
    const lines = text.split('\n');
    while (line > 1 && col === 1 && (lines[line - 1] ?? '').trim() === '') {
      line -= 1;
      col = lines[line - 1].replace(/\r$/, '').length + 1;
    }
    throw syntaxError(source, 'YAML', text, line, col, reason);
  }
  if (document.contents === null) return undefined;
  let raw: unknown;
  try {
    raw = document.toJS({ maxAliasCount: aliasBudget(text) });
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error;
    throw ConfigError.ofFile(source, `YAML ${aliasProblem(text)}`);
  }
  if (!withinExpandedBudget(raw, expandedValueBudget(text))) throw ConfigError.ofFile(source, `YAML ${aliasProblem(text)}`);
  return raw;
}

function parseJson(text: string, source: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const message = (error as Error).message;
    const position = Number(/at position (\d+)/.exec(message)?.[1] ?? text.length);
    const before = text.slice(0, position).split('\n');
    const reason = message.replace(/ in JSON at position \d+.*$/, '').replace(/ \(line \d+ column \d+\)$/, '');
    throw syntaxError(source, 'JSON', text, before.length, before[before.length - 1].length + 1, reason);
  }
}

/** `<source>: YAML syntax error at line L, column C: <reason>` and the line with a caret under the column. */
function syntaxError(source: string, language: string, text: string, line: number, column: number, reason: string): ConfigError {
  const lineText = (text.split('\n')[line - 1] ?? '').replace(/\r$/, '').replace(/\t/g, '→');
  const gutter = `  ${line} | `;
  const frame = `${gutter}${lineText}\n${' '.repeat(gutter.length - 2)}| ${' '.repeat(Math.max(0, column - 1))}^`;
  const sentence = reason.charAt(0).toLowerCase() + reason.slice(1).replace(/[:.\s]+$/, '');
  return ConfigError.ofFile(source, `${language} syntax error at line ${line}, column ${column}: ${sentence}`, frame);
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
        if (issue.path.length === 0) {
          const found = Array.isArray(raw) ? 'a list' : `the single value ${JSON.stringify(raw)}`;
          return [{ path, message: `the file must hold settings such as gitlab: and fleets:, but holds ${found}` }];
        }
        const expected = issue.expected === 'int' ? 'a whole number' : `${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`;
        return [{ path, message: missing ? `is required (${expected})` : `${given(raw, issue.path)}must be ${expected}` }];
      }
      case 'too_small':
      case 'too_big':
        return [{ path, message: `${given(raw, issue.path)}${ownMessage(issue) ?? boundMessage(issue)}` }];
      case 'invalid_format':
        return [{ path, message: `${given(raw, issue.path)}${ownMessage(issue) ?? `does not have the expected form (${issue.format})`}` }];
      default:
        return [{ path, message: ownMessage(issue) ?? `${given(raw, issue.path)}is not allowed here` }];
    }
  });
}

/** The schema's own message (a sentence written for users), or undefined for zod's default wording. */
function ownMessage(issue: z.core.$ZodIssue): string | undefined {
  return /^(Too (small|big)|Invalid|Expected)\b/.test(issue.message) ? undefined : issue.message;
}

/** A bound in words: "must be at least 1", "must list at least 1 item", "must be at most 100". */
function boundMessage(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): string {
  const small = issue.code === 'too_small';
  const bound = Number(small ? issue.minimum : issue.maximum);
  const inclusive = issue.inclusive !== false;
  const comparison = small ? (inclusive ? 'at least' : 'more than') : inclusive ? 'at most' : 'less than';
  switch (issue.origin) {
    case 'array':
      return `must list ${comparison} ${bound} ${bound === 1 ? 'entry' : 'entries'}`;
    case 'string':
      return small && bound === 1 ? 'must not be empty' : `must be ${comparison} ${bound} characters long`;
    default:
      return `must be ${comparison} ${bound}`;
  }
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

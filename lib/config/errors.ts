/** One problem in a fleet configuration, at a path such as `fleets[2].instanceTypes[1]`. */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
}

/**
 * Thrown when a fleet configuration is invalid. Carries every problem found, so the
 * person who wrote the file can fix it in one pass.
 */
export class ConfigError extends Error {
  public readonly problems: readonly ConfigProblem[];

  constructor(source: string, problems: readonly ConfigProblem[]) {
    const lines = problems.map((p) => `  - ${p.path ? `${p.path}: ` : ''}${p.message}`);
    super(
      `${source} is not a valid fleet configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`,
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }

  /**
   * A problem with the file as a whole (not found, empty, a syntax error), where listing
   * problems would mislead: the one sentence, optionally followed by a code frame.
   */
  static ofFile(source: string, message: string, codeFrame?: string): ConfigError {
    const error = new ConfigError(source, [{ path: '', message }]);
    error.message = `${source}: ${message}${codeFrame ? `\n${codeFrame}` : ''}`;
    return error;
  }
}

/** Renders a zod-style path (`['fleets', 2, 'instanceTypes', 1]`) as `fleets[2].instanceTypes[1]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

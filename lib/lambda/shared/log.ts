/**
 * One JSON object per line, so CloudWatch Logs Insights can filter by instance, fleet and
 * outcome. Callers pass identifiers and outcomes only; values are additionally scrubbed of
 * anything token-shaped as a last line of defence.
 */
import { redactSecrets } from '../../gitlab/errors';

export type LogLevel = 'info' | 'warn' | 'error';

export type LogFields = Record<string, string | number | boolean | null | undefined | readonly string[]>;

export type Logger = (level: LogLevel, message: string, fields?: LogFields) => void;

/** A logger writing JSON lines to stdout/stderr, scrubbing the given secrets and token shapes. */
export function jsonLogger(secrets: () => readonly string[] = () => []): Logger {
  return (level, message, fields = {}) => {
    const line = redactSecrets(JSON.stringify({ level, message, ...fields }), secrets());
    if (level === 'error') console.error(line);
    else console.log(line);
  };
}

/** The message of an error, without a stack (stacks can quote request bodies). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

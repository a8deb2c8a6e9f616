/**
 * Renders EC2 user data for a fleet instance from the real script files next to this module.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InstanceScriptParams } from './params';

let bootstrapCache: string | undefined;

function bootstrapScript(): string {
  bootstrapCache ??= readFileSync(join(__dirname, 'bootstrap.sh'), 'utf8');
  return bootstrapCache;
}

/** Quotes a value for bash as one single-quoted word. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The complete bash user data script for one fleet's instances. */
export function renderUserData(params: InstanceScriptParams): string {
  const header = [
    '#!/bin/bash',
    `GRF_FLEET_NAME=${shellQuote(params.fleetName)}`,
    'export GRF_FLEET_NAME',
  ].join('\n');
  return `${header}\n${bootstrapScript().replace(/^#!.*\n/, '')}`;
}

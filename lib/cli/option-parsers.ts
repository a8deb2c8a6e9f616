/**
 * Parsers for option values of the `cost` command. Each throws commander's
 * InvalidArgumentError, so commander prints one line naming the option and what is allowed.
 */
import { InvalidArgumentError } from 'commander';
import { parseInstanceType } from '../config/instance-types';
import type { PriceOverride, PriceOverrides } from '../cost/price-book';

const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const KINDS: Readonly<Record<string, keyof PriceOverride>> = {
  spot: 'spot',
  'on-demand': 'onDemand',
  ondemand: 'onDemand',
  onDemand: 'onDemand',
};

/** A number in (min, max]. */
export function numberIn(min: number, max: number, hint: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= min || n > max)
      throw new InvalidArgumentError(`must be a number > ${min} and <= ${max} (${hint})`);
    return n;
  };
}

export function regionName(value: string): string {
  if (!REGION.test(value)) throw new InvalidArgumentError('must be an AWS region name such as us-east-1 or eu-central-1');
  return value;
}

export function instanceTypeName(value: string): string {
  if (!parseInstanceType(value)) throw new InvalidArgumentError('must be an EC2 instance type such as m5.xlarge or m7g.large');
  return value;
}

export function isoDate(value: string): string {
  const ms = Date.parse(`${value}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== value) {
    throw new InvalidArgumentError('must be a date YYYY-MM-DD, e.g. 2026-03-29');
  }
  return value;
}

/**
 * `--price m6g.large:spot=0.0419` (also `:on-demand=`), repeatable; later values win.
 * Accumulates into one overrides object.
 */
export function priceOverride(value: string, previous: PriceOverrides = {}): PriceOverrides {
  const match = /^([^:=\s]+):([A-Za-z-]+)=(.+)$/.exec(value.trim());
  const usage = 'must be <instance type>:<spot|on-demand>=<USD per hour>, e.g. m6g.large:spot=0.0419';
  if (!match) throw new InvalidArgumentError(usage);
  const [, type, kindName, priceText] = match;
  const kind = KINDS[kindName];
  const price = Number(priceText);
  if (!parseInstanceType(type)) throw new InvalidArgumentError(`"${type}" is not an EC2 instance type; ${usage}`);
  if (!kind) throw new InvalidArgumentError(`"${kindName}" is not a price kind (allowed: spot, on-demand); ${usage}`);
  if (!Number.isFinite(price) || price <= 0 || price > 1000)
    throw new InvalidArgumentError(`"${priceText}" is not a price in USD per hour (> 0 and <= 1000); ${usage}`);
  return { ...previous, [type]: { ...previous[type], [kind]: price } };
}

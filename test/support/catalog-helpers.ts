/**
 * Builders for catalog tests: the catalog app from a config (examples/catalog.yaml by default),
 * synthesized in process into a temporary directory, and the product templates read back from
 * it; plus a small evaluator that resolves a product template's parameters, mappings and
 * conditions for given form values, so tests compare it with a literal fleet.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type * as servicecatalog from 'aws-cdk-lib/aws-servicecatalog';
import { loadFleetConfig, type FleetConfig } from '../../lib/config';
import { addFleetStacks, type FleetStacks } from '../../lib/stacks/fleet-app';

export const CATALOG_EXAMPLE = join(__dirname, '..', '..', 'examples', 'catalog.yaml');

export interface CatalogUnderTest {
  readonly app: App;
  readonly stacks: FleetStacks;
  readonly outdir: string;
  /** The template of a product stack, as written to the cloud assembly. */
  productTemplate(stack: servicecatalog.ProductStack): Template;
  productJson(stack: servicecatalog.ProductStack): CfnTemplate;
}

export interface CfnTemplate {
  Parameters: Record<string, Record<string, unknown>>;
  Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  Conditions?: Record<string, unknown>;
  Rules?: Record<string, { Assertions: Array<{ Assert: unknown; AssertDescription: string }> }>;
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; Condition?: string; Metadata?: Record<string, unknown> }>;
  Outputs?: Record<string, { Value: unknown }>;
  Metadata?: Record<string, unknown>;
  Description?: string;
}

/** GIVEN the catalog config WHEN the app is synthesized (no nag, no CloudFormation validation: fast). */
export function synthCatalog(config: FleetConfig = loadFleetConfig(CATALOG_EXAMPLE), options: { nag?: boolean } = {}): CatalogUnderTest {
  const outdir = mkdtempSync(join(tmpdir(), 'catalog-test-'));
  const app = new App({ outdir, builtinCloudFormationValidation: false, context: { 'aws:cdk:disable-creation-stack-traces': true } });
  const stacks = addFleetStacks(app, config, { nag: options.nag });
  app.synth();
  const productJson = (stack: servicecatalog.ProductStack) =>
    JSON.parse(readFileSync(join(outdir, stack.templateFile), 'utf8')) as CfnTemplate;
  return { app, stacks, outdir, productJson, productTemplate: (stack) => Template.fromJSON(productJson(stack)) };
}

/** Resolves intrinsic functions of a template fragment for the given parameter values (the rest of the template gives mappings and conditions). */
export function resolveWith(template: CfnTemplate, values: Record<string, string | string[]>): (node: unknown) => unknown {
  const paramValue = (name: string): unknown => {
    if (name in values) return values[name];
    const param = template.Parameters[name];
    if (param && 'Default' in param) return param.Type === 'CommaDelimitedList' ? String(param.Default).split(',') : param.Default;
    return { Ref: name };
  };
  const condition = (name: string): boolean => Boolean(resolve(template.Conditions?.[name]));
  const resolve = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(resolve);
    if (node === null || typeof node !== 'object') return node;
    const entries = Object.entries(node as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, arg] = entries[0];
      const args = arg as unknown[];
      switch (key) {
        case 'Ref':
          return template.Parameters[arg as string] ? paramValue(arg as string) : node;
        case 'Fn::FindInMap': {
          const [map, top, second] = args.map(resolve) as string[];
          return template.Mappings?.[map]?.[top]?.[second];
        }
        case 'Fn::Join': {
          const [delimiter, parts] = args as [string, unknown[]];
          const resolved = resolve(parts) as unknown[];
          return resolved.every((p) => typeof p === 'string' || typeof p === 'number')
            ? resolved.join(delimiter)
            : { 'Fn::Join': [delimiter, resolved] };
        }
        case 'Fn::Equals':
          return JSON.stringify(resolve(args[0])) === JSON.stringify(resolve(args[1]));
        case 'Fn::Not':
          return !resolve(args[0]);
        case 'Fn::If':
          return condition(args[0] as string) ? resolve(args[1]) : resolve(args[2]);
        case 'Condition':
          return condition(arg as string);
        default:
          break;
      }
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, resolve(v)]));
  };
  return resolve;
}

import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { addFleetStacks, createFleetApp, fleetStackName, SHARED_STACK_NAME } from '../../lib/stacks/fleet-app';
import { rawFleet, testConfig } from '../support/stack-helpers';

/** GIVEN the fleet stacks plus a queue with cdk-nag findings (no SSL enforcement, no DLQ). */
function appWithFinding(nag: boolean | undefined): App {
  const app = new App({ builtinCloudFormationValidation: false });
  const { shared } = addFleetStacks(app, testConfig([rawFleet()]), nag === undefined ? undefined : { nag });
  new sqs.Queue(shared, 'UncheckedQueue');
  return app;
}

describe('fleet app options', () => {
  it('fails synthesis on an unacknowledged cdk-nag finding when nag is on', () => {
    expect(() => appWithFinding(true).synth()).toThrow(/AwsSolutions-SQS/);
  });

  it('does not run cdk-nag when nag is off', () => {
    expect(() => appWithFinding(false).synth()).not.toThrow();
  });

  it('does not run cdk-nag by default', () => {
    expect(() => appWithFinding(undefined).synth()).not.toThrow();
  });

  it('writes the cloud assembly to outdir', () => {
    // GIVEN an empty output directory
    const outdir = mkdtempSync(join(tmpdir(), 'fleet-app-outdir-'));

    // WHEN the app is synthesized there
    createFleetApp(testConfig([rawFleet({ name: 'alpha' })]), { outdir, cloudFormationValidation: false }).synth();

    // THEN both stack templates are in it
    expect(existsSync(join(outdir, `${SHARED_STACK_NAME}.template.json`))).toBe(true);
    expect(existsSync(join(outdir, `${fleetStackName('alpha')}.template.json`))).toBe(true);
  });

  it('leaves CDK CloudFormation validation off unless asked for, and then makes its findings errors', () => {
    const config = testConfig([rawFleet()]);

    expect(createFleetApp(config)._builtinCloudFormationValidation).toBe(false);
    const validating = createFleetApp(config, { cloudFormationValidation: true });
    expect(validating._builtinCloudFormationValidation).toBe(true);
    expect(validating.node.tryGetContext('@aws-cdk/core:validateAgainstDefaultRules')).toBe(true);
  });
});

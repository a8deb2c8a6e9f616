import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { parseFleetConfig, type FleetConfig } from '../../lib/config';
import { RunnerVpc } from '../../lib/fleet/fleet-network';
import { OrphanReaper } from '../../lib/fleet/orphan-reaper';
import { RunnerFleetSafetyNet } from '../../lib/fleet/safety-net';

function config(): FleetConfig {
  return parseFleetConfig({
    gitlab: { url: 'https://gitlab.example.com' },
    orphanReaper: { enabled: true },
    fleets: [{ name: 'alpha', computeType: 'spot', instanceTypes: ['m7g.large'], capacity: { max: 2 } }],
  });
}

const stack = () => new Stack(new App(), 'S');

describe('RunnerVpc props', () => {
  it.each([0, 1.5])('rejects maxAzs %s, naming the prop', (maxAzs) => {
    expect(() => new RunnerVpc(stack(), 'Vpc', { maxAzs })).toThrow(`maxAzs (${maxAzs}) must be a whole number >= 1`);
  });

  it('uses as many availability zones as maxAzs allows', () => {
    const s = new Stack(new App(), 'S', { env: { account: '123456789012', region: 'eu-central-1' } });
    new RunnerVpc(s, 'Vpc', { maxAzs: 1 });

    Template.fromStack(s).resourceCountIs('AWS::EC2::Subnet', 1);
  });
});

describe('RunnerFleetSafetyNet props', () => {
  it.each([0, 1001, 2.5])('rejects maxReceiveCount %s, naming the prop and the range', (maxReceiveCount) => {
    const c = config();

    expect(() => new RunnerFleetSafetyNet(stack(), 'Net', { fleets: c.fleets, gitlab: c.gitlab, maxReceiveCount })).toThrow(
      `maxReceiveCount (${maxReceiveCount}) must be a whole number from 1 to 1000`,
    );
  });
});

describe('FleetLambdaFunction props, through the orphan reaper', () => {
  it.each([0, 1.5])('rejects reservedConcurrentExecutions %s, naming the prop', (reservedConcurrentExecutions) => {
    const c = config();

    expect(
      () => new OrphanReaper(stack(), 'R', { fleets: c.fleets, gitlab: c.gitlab, settings: c.orphanReaper, reservedConcurrentExecutions }),
    ).toThrow(`reservedConcurrentExecutions (${reservedConcurrentExecutions}) must be a whole number >= 1`);
  });
});

describe('constructs that hand the GitLab URL to a Lambda refuse http://', () => {
  const insecure = (url: string) => ({ ...config().gitlab, url });

  it.each(['http://gitlab.example.com', 'http://127.0.0.1:8080'])('RunnerFleetSafetyNet refuses gitlab.url %s', (url) => {
    expect(() => new RunnerFleetSafetyNet(stack(), 'Net', { fleets: config().fleets, gitlab: insecure(url) })).toThrow(
      `RunnerFleetSafetyNet: gitlab.url "${url}" is not an https:// URL`,
    );
  });

  it('OrphanReaper refuses an http:// gitlab.url', () => {
    const c = config();

    expect(
      () => new OrphanReaper(stack(), 'R', { fleets: c.fleets, gitlab: insecure('http://gitlab.example.com'), settings: c.orphanReaper }),
    ).toThrow('OrphanReaper: gitlab.url "http://gitlab.example.com" is not an https:// URL');
  });
});

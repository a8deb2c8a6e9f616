import { describe, expect, it } from 'vitest';
import { autoScalingGroupName } from '../../lib/identity/runner-identity';
import { fleetByGroup, handlerConfig, parseHandlerConfig, type HandlerConfig } from '../../lib/lambda/shared/handler-config';
import type { FleetSpec, GitLabSettings } from '../../lib/config/fleet-config';
import { parseFleetConfig } from '../../lib/config';

const fleet = (name: string) => ({ name, autoScalingGroupName: autoScalingGroupName(name), tokenSecretName: `fleet/${name}/runner-token` });
const text = (value: unknown) => JSON.stringify(value);

describe('handler config parsing', () => {
  it('accepts a config with a URL and complete fleets, keeping the reaper settings', () => {
    // GIVEN a config as the constructs write it
    const written = { gitlabUrl: 'https://gitlab.example.com', fleets: [fleet('a')], apiTokenSecretName: 'api', graceMinutes: 45 };
    // WHEN it is parsed
    const config = parseHandlerConfig(text(written));
    // THEN it comes back unchanged
    expect(config).toEqual(written);
  });

  it('refuses a gitlabUrl that is not a URL, naming the field', () => {
    expect(() => parseHandlerConfig(text({ gitlabUrl: 'gitlab.example.com', fleets: [] }))).toThrow(
      'handler-config.json: gitlabUrl must be a URL',
    );
  });

  it('refuses an http:// gitlabUrl, so a hand-edited config cannot send tokens in clear text', () => {
    expect(() => parseHandlerConfig(text({ gitlabUrl: 'http://gitlab.example.com', fleets: [] }))).toThrow(
      'handler-config.json: gitlabUrl "http://gitlab.example.com" is not an https:// URL',
    );
  });

  it('accepts http:// only to a loopback address, where the request never leaves the machine', () => {
    expect(parseHandlerConfig(text({ gitlabUrl: 'http://127.0.0.1:4000', fleets: [] })).gitlabUrl).toBe('http://127.0.0.1:4000');
  });

  it('refuses a gitlabUrl that is not a string', () => {
    expect(() => parseHandlerConfig(text({ gitlabUrl: 42, fleets: [] }))).toThrow(/gitlabUrl must be a URL/);
  });

  it('refuses fleets that are not a list, naming the field', () => {
    expect(() => parseHandlerConfig(text({ gitlabUrl: 'https://gitlab.example.com', fleets: { a: 1 } }))).toThrow(
      'handler-config.json: fleets must be a list',
    );
  });

  it('names the index and key of a fleet with an empty field', () => {
    // GIVEN a second fleet without a token secret name
    const written = { gitlabUrl: 'https://gitlab.example.com', fleets: [fleet('a'), { ...fleet('b'), tokenSecretName: '' }] };
    // WHEN / THEN the error points at fleets[1].tokenSecretName
    expect(() => parseHandlerConfig(text(written))).toThrow('handler-config.json: fleets[1].tokenSecretName must be a non-empty string');
  });

  it('names the first missing key of a fleet entry that is not an object', () => {
    const written = { gitlabUrl: 'https://gitlab.example.com', fleets: [null] };
    expect(() => parseHandlerConfig(text(written))).toThrow('fleets[0].name must be a non-empty string');
  });

  it('refuses a fleet whose group name is not a string', () => {
    const written = { gitlabUrl: 'https://gitlab.example.com', fleets: [{ ...fleet('a'), autoScalingGroupName: 7 }] };
    expect(() => parseHandlerConfig(text(written))).toThrow('fleets[0].autoScalingGroupName must be a non-empty string');
  });

  it('refuses a file that is not JSON', () => {
    expect(() => parseHandlerConfig('gitlabUrl: https://gitlab.example.com')).toThrow(SyntaxError);
  });
});

describe('handler config building', () => {
  const specs = [{ name: 'graviton-spot', runnerTokenSecretName: 'fleet/graviton-spot/runner-token' }] as unknown as FleetSpec[];
  const gitlab = { url: 'https://gitlab.example.com' } as GitLabSettings;

  it('derives each fleet group name and token secret from the fleet spec', () => {
    const config = handlerConfig(specs, gitlab);
    expect(config).toEqual({
      gitlabUrl: 'https://gitlab.example.com',
      fleets: [
        {
          name: 'graviton-spot',
          autoScalingGroupName: autoScalingGroupName('graviton-spot'),
          tokenSecretName: 'fleet/graviton-spot/runner-token',
        },
      ],
    });
  });

  it('adds the orphan reaper settings when given', () => {
    const config = handlerConfig(specs, gitlab, { apiTokenSecretName: 'api', graceMinutes: 10 });
    expect(config).toMatchObject({ apiTokenSecretName: 'api', graceMinutes: 10 });
  });

  it('round-trips through the parser', () => {
    const config = handlerConfig(specs, gitlab, { graceMinutes: 10 });
    expect(parseHandlerConfig(JSON.stringify(config))).toEqual(config);
  });
});

describe('fleet lookup by group', () => {
  const config: Pick<HandlerConfig, 'fleets'> = { fleets: [fleet('a'), fleet('b')] };

  it('finds the fleet owning a group', () => {
    expect(fleetByGroup(config, autoScalingGroupName('b'))?.name).toBe('b');
  });

  it('finds nothing for a group outside the fleets', () => {
    expect(fleetByGroup(config, 'someone-elses-group')).toBeUndefined();
  });

  it('finds nothing when the event names no group', () => {
    expect(fleetByGroup(config, undefined)).toBeUndefined();
  });
});

describe('fleet lookup by group in a named deployment', () => {
  const config: Pick<HandlerConfig, 'fleets' | 'deployment'> = {
    deployment: 'ci',
    fleets: [{ name: 'a', autoScalingGroupName: autoScalingGroupName('a', 'ci'), tokenSecretName: 'custom/a' }],
  };

  it('keeps a listed fleet as configured', () => {
    expect(fleetByGroup(config, 'gitlab-runner-fleet.ci.a')?.tokenSecretName).toBe('custom/a');
  });

  it('treats a later-launched group with the deployment prefix as a fleet with its default token secret', () => {
    expect(fleetByGroup(config, 'gitlab-runner-fleet.ci.catalog-fleet')).toEqual({
      name: 'catalog-fleet',
      autoScalingGroupName: 'gitlab-runner-fleet.ci.catalog-fleet',
      tokenSecretName: 'gitlab-runner-fleet/ci/catalog-fleet/runner-token',
    });
  });

  it("ignores another deployment's group", () => {
    expect(fleetByGroup(config, 'gitlab-runner-fleet.cd.catalog-fleet')).toBeUndefined();
  });

  it('writes the deployment name into the handler configuration', () => {
    const specs = parseFleetConfig({
      deployment: 'ci',
      gitlab: { url: 'https://gitlab.example.com' },
      fleets: [{ name: 'spot', computeType: 'spot', instanceTypes: ['m7g.large'], capacity: { max: 1 } }],
    }).fleets;

    const written = handlerConfig(specs, { url: 'https://gitlab.example.com' });
    expect(written.deployment).toBe('ci');
    expect(parseHandlerConfig(JSON.stringify(written)).fleets[0].autoScalingGroupName).toBe('gitlab-runner-fleet.ci.spot');
  });
});

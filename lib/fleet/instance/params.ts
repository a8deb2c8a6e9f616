/**
 * What the instance scripts (bootstrap and drain agent) are told at render time. The values
 * are rendered into user data as quoted shell assignments; none of them is a secret: the
 * runner token is read from Secrets Manager at boot.
 */
import type { Architecture } from '../../config/instance-types';
import type { ComputeType, Executor } from '../../config/fleet-config';

export interface InstanceScriptParams {
  /** Fleet name, e.g. `graviton-spot`. */
  readonly fleetName: string;
  /** GitLab base URL without trailing slash. */
  readonly gitlabUrl: string;
  /** Optional PEM bundle for a private CA, written to /etc/gitlab-runner/certs/. */
  readonly caCertificate?: string;
  /** Optional docker registry mirror (docker executor). */
  readonly registryMirror?: string;
  /** GitLab Runner version to install, e.g. `18.5.0`. */
  readonly runnerVersion: string;
  /** Base URL for runner binaries; `/v<version>/binaries/gitlab-runner-linux-<arm64|amd64>` is appended. */
  readonly runnerDownloadUrl: string;
  /**
   * SHA-256 of the runner binary for this version and architecture, lowercase hex. The bootstrap
   * installs only a binary with this checksum, so a mirror must serve GitLab's exact bytes.
   * @default - the binary must match the `release.sha256` published beside it; bootstrap fails when it cannot be fetched
   */
  readonly runnerSha256?: string;
  readonly architecture: Architecture;
  readonly computeType: ComputeType;
  readonly executor: Executor;
  /** Default job image for the docker executor. */
  readonly dockerImage: string;
  /** config.toml `concurrent`. */
  readonly concurrency: number;
  /** Longest job; bounds how long the drain agent waits and heartbeats. */
  readonly maxJobTimeoutMinutes: number;
  /** Secrets Manager secret name or ARN holding the glrt- token. May be a CloudFormation token at synth. */
  readonly runnerTokenSecretId: string;
  /**
   * Mixed fleets with a second runner: the secret on-demand instances (IMDS `instance-life-cycle`
   * `on-demand`) read instead, so they register with the runner tagged computetype-ondemand.
   */
  readonly onDemandRunnerTokenSecretId?: string;
  /** Auto Scaling group name (see autoScalingGroupName()). */
  readonly autoScalingGroupName: string;
  /** Lifecycle hook names (see LIFECYCLE_HOOKS). */
  readonly launchHookName: string;
  readonly terminateHookName: string;
  /** Seconds between lifecycle heartbeats while draining; below the terminate hook's heartbeat timeout. */
  readonly heartbeatIntervalSeconds: number;
  /**
   * Install the busy reporter (runner job slots to instance tags, for demand scaling). Only
   * demand-scaled fleets need it, and leaving it out keeps room in the 16 KB user data.
   * @default false
   */
  readonly busyReporter?: boolean;
}

/** Default download location of GitLab Runner binaries. */
export const DEFAULT_RUNNER_DOWNLOAD_URL = 'https://gitlab-runner-downloads.s3.amazonaws.com';

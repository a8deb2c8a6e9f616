/**
 * `runner-fleet status`, the pure part: from what AWS says about a fleet's group and what GitLab
 * says about its runner(s), find the mismatches between the two, and render both as a table or
 * JSON. No SDK, no HTTP: the command (lib/cli/status.ts) gathers the facts.
 */
import { computeTypeTag, fleetRunnerObjects, type ComputeType, type FleetSpec } from '../config/fleet-config';
import type { RunnerDetails, RunnerManager } from '../gitlab/types';
import { systemIdForInstance } from '../identity/runner-identity';

export interface StatusInstance {
  readonly id: string;
  /** Auto Scaling lifecycle state: InService, Pending:Wait, Terminating:Wait, ... */
  readonly lifecycleState: string;
  readonly computeType: ComputeType;
  readonly availabilityZone: string;
  readonly launchTime?: Date;
}

export interface StatusGroup {
  readonly name: string;
  readonly desired: number;
  readonly instances: readonly StatusInstance[];
}

export interface StatusRunner {
  /** The compute type of the instances meant to register with it. */
  readonly computeType: ComputeType;
  readonly tokenSecretName: string;
  readonly id?: number;
  readonly details?: RunnerDetails;
  readonly managers: readonly RunnerManager[];
  /** Why the runner could not be read (bad token, no access); a mismatch of its own. */
  readonly error?: string;
}

export interface FleetFacts {
  readonly fleet: Pick<FleetSpec, 'name' | 'computeType' | 'architecture' | 'onDemandBase'> &
    Partial<Pick<FleetSpec, 'runnerTokenSecretName' | 'onDemandRunnerTokenSecretName' | 'executor' | 'runnerTags'>>;
  /** Undefined when the group does not exist (the fleet is not deployed in this account/region). */
  readonly group?: StatusGroup;
  readonly runners: readonly StatusRunner[];
}

export const MISMATCH_KINDS = [
  'group-missing',
  'runner-unreadable',
  'instance-without-manager',
  'orphan-manager',
  'spot-on-ondemand-runner',
  'tags',
  'run-untagged',
] as const;
export type MismatchKind = (typeof MISMATCH_KINDS)[number];

export interface Mismatch {
  readonly kind: MismatchKind;
  readonly message: string;
}

export interface FleetStatus extends FleetFacts {
  readonly mismatches: readonly Mismatch[];
}

export interface MismatchRules {
  readonly now: Date;
  /** An instance younger than this may still be registering; a manager younger than this may still have its instance starting. */
  readonly launchTimeoutSeconds: number;
}

/** The mismatches of one fleet, in a fixed order. */
export function findMismatches(facts: FleetFacts, rules: MismatchRules): Mismatch[] {
  const out: Mismatch[] = [];
  const add = (kind: MismatchKind, message: string) => out.push({ kind, message });
  const { fleet, group } = facts;
  if (!group)
    add('group-missing', `Auto Scaling group of fleet ${fleet.name} not found: is the fleet deployed in this account and region?`);
  for (const runner of facts.runners) {
    if (runner.error) add('runner-unreadable', `${runner.computeType} runner (secret ${runner.tokenSecretName}): ${runner.error}`);
  }
  const readable = facts.runners.filter((r) => !r.error);
  const oldEnough = (at: Date | string | null | undefined) =>
    at !== undefined && at !== null && rules.now.getTime() - new Date(at).getTime() > rules.launchTimeoutSeconds * 1000;

  if (group && readable.length === facts.runners.length && facts.runners.length > 0) {
    const managerBySystemId = new Map<string, { runner: StatusRunner; manager: RunnerManager }>();
    for (const runner of readable) for (const manager of runner.managers) managerBySystemId.set(manager.system_id, { runner, manager });
    const instanceBySystemId = new Map(group.instances.map((i) => [systemIdForInstance(i.id), i]));
    for (const instance of group.instances) {
      if (instance.lifecycleState.startsWith('Terminat')) continue;
      const registered = managerBySystemId.get(systemIdForInstance(instance.id));
      if (!registered && oldEnough(instance.launchTime)) {
        add(
          'instance-without-manager',
          `instance ${instance.id} (${instance.lifecycleState}) has no runner manager ${rules.launchTimeoutSeconds / 60} minutes after launch`,
        );
      }
      if (registered && instance.computeType === 'spot' && registered.runner.computeType === 'on-demand') {
        add(
          'spot-on-ondemand-runner',
          `spot instance ${instance.id} is a manager of the computetype-ondemand runner ${registered.runner.id}`,
        );
      }
    }
    for (const [systemId, { runner, manager }] of managerBySystemId) {
      if (!instanceBySystemId.has(systemId) && oldEnough(manager.created_at)) {
        add('orphan-manager', `manager ${systemId} of runner ${runner.id} has no instance in the group (an orphan)`);
      }
    }
  }

  for (const runner of readable) {
    const tags = runner.details?.tag_list;
    if (tags) {
      const wanted = [computeTypeTag(runner.computeType), fleet.architecture];
      const missing = wanted.filter((t) => !tags.includes(t));
      const other = computeTypeTag(runner.computeType === 'spot' ? 'on-demand' : 'spot');
      const problems = [
        ...(missing.length > 0 ? [`lacks ${missing.join(', ')}`] : []),
        ...(tags.includes(other) ? [`carries ${other}`] : []),
      ];
      if (problems.length > 0) add('tags', `runner ${runner.id} (${runner.computeType}, ${fleet.architecture}) ${problems.join(' and ')}`);
    }
    if (runner.details?.run_untagged) {
      add('run-untagged', `runner ${runner.id} runs untagged jobs: jobs that did not ask for ${runner.computeType} capacity land on it`);
    }
  }
  return out;
}

/** The runner objects a fleet is expected to have, as `status` looks them up. */
export function expectedRunners(fleet: FleetSpec): Array<{ computeType: ComputeType; tokenSecretName: string }> {
  return fleetRunnerObjects(fleet).map((r) => ({ computeType: r.computeType, tokenSecretName: r.tokenSecretName }));
}

export function withMismatches(facts: FleetFacts, rules: MismatchRules): FleetStatus {
  return { ...facts, mismatches: findMismatches(facts, rules) };
}

export function statusJson(statuses: readonly FleetStatus[], now: Date): string {
  const fleets = statuses.map((s) => ({
    fleet: s.fleet.name,
    computeType: s.fleet.computeType,
    architecture: s.fleet.architecture,
    group: s.group && {
      name: s.group.name,
      desired: s.group.desired,
      inService: count(s.group, 'InService'),
      pending: count(s.group, 'Pending'),
      instances: s.group.instances.map((i) => ({
        id: i.id,
        lifecycleState: i.lifecycleState,
        computeType: i.computeType,
        availabilityZone: i.availabilityZone,
        uptimeSeconds: i.launchTime ? Math.round((now.getTime() - i.launchTime.getTime()) / 1000) : null,
        systemId: systemIdForInstance(i.id),
      })),
    },
    runners: s.runners.map((r) => ({
      computeType: r.computeType,
      tokenSecret: r.tokenSecretName,
      id: r.id ?? null,
      error: r.error ?? null,
      tags: r.details?.tag_list ?? null,
      paused: r.details?.paused ?? null,
      runUntagged: r.details?.run_untagged ?? null,
      status: r.details?.status ?? null,
      managers: r.managers.map((m) => ({
        systemId: m.system_id,
        version: m.version ?? null,
        contactedAt: m.contacted_at,
        status: m.status ?? null,
      })),
    })),
    mismatches: s.mismatches,
  }));
  return `${JSON.stringify({ healthy: statuses.every((s) => s.mismatches.length === 0), fleets }, null, 2)}\n`;
}

export function formatStatusTables(statuses: readonly FleetStatus[], now: Date): string {
  return statuses
    .map((s) => {
      const lines: string[] = [];
      const g = s.group;
      lines.push(
        g
          ? `${s.fleet.name} (${s.fleet.computeType}, ${s.fleet.architecture}): group ${g.name} desired ${g.desired}, in service ${count(g, 'InService')}, pending ${count(g, 'Pending')}`
          : `${s.fleet.name} (${s.fleet.computeType}, ${s.fleet.architecture}): no Auto Scaling group`,
      );
      if (g && g.instances.length > 0) {
        const rows = g.instances.map((i) => [
          i.id,
          i.lifecycleState,
          i.computeType,
          i.availabilityZone,
          uptime(i.launchTime, now),
          systemIdForInstance(i.id),
        ]);
        lines.push(table([['INSTANCE', 'STATE', 'COMPUTE', 'AZ', 'UPTIME', 'SYSTEM_ID'], ...rows]));
      }
      for (const r of s.runners) {
        if (r.error) {
          lines.push(`  runner (${r.computeType}, secret ${r.tokenSecretName}): unreadable: ${r.error}`);
          continue;
        }
        const d = r.details;
        lines.push(
          `  runner ${r.id} (${r.computeType}): tags ${d?.tag_list?.join(',') || '-'}; ${d?.paused ? 'paused' : 'active'}; ` +
            `${d?.status ?? 'unknown'}; run untagged ${d?.run_untagged ? 'ON' : 'off'}; ${r.managers.length} manager${r.managers.length === 1 ? '' : 's'}`,
        );
        if (r.managers.length > 0) {
          const rows = r.managers.map((m) => [
            m.system_id,
            m.version ?? '-',
            m.contacted_at ? `${m.contacted_at.slice(0, 16).replace('T', ' ')}Z` : 'never',
            m.status ?? '-',
          ]);
          lines.push(table([['SYSTEM_ID', 'VERSION', 'CONTACTED', 'STATUS'], ...rows], '    '));
        }
      }
      lines.push(
        s.mismatches.length === 0 ? '  ok: no mismatches' : s.mismatches.map((m) => `  MISMATCH ${m.kind}: ${m.message}`).join('\n'),
      );
      return `${lines.join('\n')}\n`;
    })
    .join('\n');
}

function count(group: StatusGroup, prefix: string): number {
  return group.instances.filter((i) => i.lifecycleState.startsWith(prefix)).length;
}

function uptime(launch: Date | undefined, now: Date): string {
  if (!launch) return '-';
  const minutes = Math.max(0, Math.floor((now.getTime() - launch.getTime()) / 60_000));
  return minutes >= 60 ? `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m` : `${minutes}m`;
}

function table(rows: readonly string[][], indent = '  '): string {
  const widths = rows[0].map((_h, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => `${indent}${r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')}`).join('\n');
}

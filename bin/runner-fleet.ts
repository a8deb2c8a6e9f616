#!/usr/bin/env node
/**
 * `runner-fleet`: the command line. Each subcommand registers itself on the program; add one
 * with a `register...Command(program)` line below. Loads no CDK code.
 */
import { registerCostCommand } from '../lib/cli/cost-command';
import { registerDeployRolesCommand } from '../lib/cli/deploy-roles-command';
import { registerOrphansCommand } from '../lib/cli/orphans';
import { createProgram, runProgram } from '../lib/cli/program';
import { registerRotateTokenCommand } from '../lib/cli/rotate-token';
import { registerStatusCommand } from '../lib/cli/status';
import { registerValidateCommand } from '../lib/cli/validate-command';

const program = createProgram();
registerCostCommand(program);
registerOrphansCommand(program);
registerStatusCommand(program);
registerRotateTokenCommand(program);
registerValidateCommand(program);
registerDeployRolesCommand(program);

void runProgram(program, process.argv).then((code) => {
  process.exitCode = code;
});

import { argocdCommand } from './argocd.js';
import { buildCommand } from './build.js';
import { diffCommand } from './diff.js';
import { fluxCommand } from './flux.js';
import { imagesCommand } from './images.js';
import { initCommand } from './init.js';
import { planCommand } from './plan.js';
import { previousCommand } from './previous.js';
import { repoCommand } from './repo.js';
import { validateCommand } from './validate.js';
import { verifyCommand } from './verify.js';

/** kfc's commands, in the order `kfc --help` lists them. A new command: its module in cli/, one line here. */
export const KFC_COMMANDS = [initCommand, buildCommand, verifyCommand, validateCommand, planCommand, diffCommand, imagesCommand, repoCommand, argocdCommand, fluxCommand, previousCommand];

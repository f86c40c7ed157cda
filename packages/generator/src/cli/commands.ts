import { argocdCommand } from './argocd.js';
import { buildCommand } from './build.js';
import { diffCommand } from './diff.js';
import { imagesCommand } from './images.js';
import { planCommand } from './plan.js';
import { previousCommand } from './previous.js';
import { repoCommand } from './repo.js';
import { validateCommand } from './validate.js';
import { verifyCommand } from './verify.js';

/** kfc's commands, in the order `kfc --help` lists them. A new command: its module in cli/, one line here. */
export const KFC_COMMANDS = [buildCommand, verifyCommand, validateCommand, planCommand, diffCommand, imagesCommand, repoCommand, argocdCommand, previousCommand];

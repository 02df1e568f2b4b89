import type { SlashCommand } from '../src/commands';
import { bind } from './bind';
import { check } from './check';
import { sync } from './sync';
import { unlink } from './unlink';
import { update } from './update';
import { verify } from './verify';

export const COMMANDS: readonly SlashCommand[] = [verify, unlink, update, check, bind, sync];

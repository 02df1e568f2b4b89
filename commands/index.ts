import type { SlashCommand } from '../src/commands';
import { bind } from './bind';
import { check } from './check';
import { settings } from './settings';
import { sync } from './sync';
import { unlink } from './unlink';
import { update } from './update';
import { verify } from './verify';
import { whois } from './whois';

export const COMMANDS: readonly SlashCommand[] = [verify, unlink, update, check, whois, bind, sync, settings];

// What one member's re-check found and did, per server: the value every step adds to and every
// caller (commands, run logs, records) reads.

import type { RolePlan } from '../roleplan';
import type { NicknameDecision } from '../nickname';
import type { UnverifiedDecision } from '../unverifiedplan';

export interface ServerResult {
  guildId: string;
  serverName: string;
  /** False when the member is not in this server. */
  present: boolean;
  plan?: RolePlan;
  /** The unverified role's decision, in a server that has one. */
  unverified?: UnverifiedDecision;
  /** The nickname's decision, in a server with a nickname template. */
  nickname?: NicknameDecision;
  /** The nickname written, if one was. */
  renamed?: string;
  added: string[];
  removed: string[];
  problems: string[];
}

export interface MemberResult {
  discordUserId: string;
  robloxUserId?: string;
  servers: ServerResult[];
  /** Items whose ownership could not be established this time. */
  unknown: number;
}

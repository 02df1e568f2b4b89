// Validators built from the official specs in ../shared/specs: the fakes check what they send
// and what they receive against them, and record every mismatch for the tests to assert on.

import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import Ajv from 'ajv';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { ErrorObject, ValidateFunction } from 'ajv';

const SPECS = new URL('../../../shared/specs/', import.meta.url);
const readSpec = (path: string) => JSON.parse(readFileSync(new URL(path, SPECS), 'utf8')) as Record<string, unknown>;

const pointer = (...parts: string[]) => parts.map((p) => encodeURIComponent(p.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/');
const explain = (errors: ErrorObject[] | null | undefined) => (errors ?? []).slice(0, 3).map((e) => `${e.instancePath || '(root)'} ${e.message}`).join('; ');

// Discord: OpenAPI 3.1, i.e. JSON Schema 2020-12.
const discordAjv = new Ajv2020({ strict: false, allErrors: true });
addFormats(discordAjv);
for (const format of ['int32', 'int64', 'double', 'snowflake', 'nonce']) discordAjv.addFormat(format, true);
const discordOpenApi = readSpec('discord/openapi.json') as { paths: Record<string, Record<string, { requestBody?: { required?: boolean } }>> };
discordAjv.addSchema(discordOpenApi, 'discord');

// Roblox: OpenAPI 3.0.4; Ajv's draft-07 class with strict off, as the shared docs advise.
const robloxAjv = new Ajv({ strict: false, allErrors: true });
addFormats(robloxAjv);
for (const format of ['enum', 'int32', 'int64', 'double', 'float']) robloxAjv.addFormat(format, true);
const robloxV2 = readSpec('roblox/roblox-opencloud-v2-users-inventory.subset.json');
robloxAjv.addSchema(robloxV2, 'roblox-v2');
robloxAjv.addSchema(readSpec('roblox/roblox-legacy-users-inventory.subset.json'), 'roblox-legacy');
// No subset holds the badge details endpoint: its schemas come from the complete spec.
type Operation = { servers?: { url: string }[]; responses: Record<string, { description?: string }> };
const fullRoblox = JSON.parse(gunzipSync(readFileSync(new URL('roblox/openapi.full.b0bf2f15.json.gz', SPECS))).toString('utf8')) as {
  components: unknown;
  paths: Record<string, Record<string, Operation>>;
};
robloxAjv.addSchema({ components: fullRoblox.components }, 'roblox-full');

const cache = new Map<string, ValidateFunction>();
function compiled(ajv: Ajv | Ajv2020, ref: string): ValidateFunction {
  let validate = cache.get(ref);
  if (!validate) {
    validate = ajv.compile({ $ref: ref });
    cache.set(ref, validate);
  }
  return validate;
}

/** Problems with a value against a schema reference; empty when it conforms. */
function check(ajv: Ajv | Ajv2020, ref: string, value: unknown): string[] {
  const validate = compiled(ajv, ref);
  return validate(value) ? [] : [explain(validate.errors)];
}

export const discordSpec = {
  response: (template: string, method: string, status: number, body: unknown) =>
    check(discordAjv, `discord#/${pointer('paths', template, method, 'responses', String(status), 'content', 'application/json', 'schema')}`, body),
  request: (template: string, method: string, body: unknown) =>
    check(discordAjv, `discord#/${pointer('paths', template, method, 'requestBody', 'content', 'application/json', 'schema')}`, body),
  schema: (name: string, value: unknown) => check(discordAjv, `discord#/components/schemas/${name}`, value),
  /** Whether the operation must carry a body (Modify Guild Member, an interaction's callback, ...). */
  bodyRequired: (template: string, method: string) => discordOpenApi.paths[template]?.[method]?.requestBody?.required === true,
};

type Schemas = { components: { schemas: { InventoryItem_AssetDetails: { properties: { inventoryItemAssetType: { enum: string[] } } } } } };

export const robloxSpec = {
  /** Every name of the inventory asset-type enum, straight from the spec. */
  assetTypes: (robloxV2 as unknown as Schemas).components.schemas.InventoryItem_AssetDetails.properties.inventoryItemAssetType.enum,
  v2: (name: 'ListInventoryItemsResponse' | 'User', value: unknown) => check(robloxAjv, `roblox-v2#/components/schemas/${name}`, value),
  usernamesResponse: (value: unknown) =>
    check(robloxAjv, 'roblox-legacy#/components/schemas/Roblox.Web.WebAPI.Models.ApiArrayResponse_Roblox.Users.Api.MultiGetUserByNameResponse_', value),
  usernamesRequest: (value: unknown) => check(robloxAjv, 'roblox-legacy#/components/schemas/Roblox.Users.Api.MultiGetByUsernameRequest', value),
  /** GET badges.roblox.com/v1/badges/{badgeId} */
  badge: (value: unknown) => check(robloxAjv, 'roblox-full#/components/schemas/Roblox.Badges.Api.BadgeResponse', value),
  /** Any schema of the complete spec by name (the Open Cloud groups' answers, for one). */
  full: (name: string, value: unknown) => check(robloxAjv, `roblox-full#/components/schemas/${name}`, value),
  /** An operation of the complete spec, for its host and documented error answers. */
  operation: (path: string, method: string): Operation | undefined => fullRoblox.paths[path]?.[method],
};

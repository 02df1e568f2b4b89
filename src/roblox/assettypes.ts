// Roblox's inventory asset-type enum (../shared/docs/roblox-api.md 2.2), as the collectible filter
// takes it: `inventoryItemAssetTypes=HAT,FACE`.

export const ASSET_TYPES = [
  'CLASSIC_TSHIRT', 'AUDIO', 'HAT', 'MODEL', 'CLASSIC_SHIRT', 'CLASSIC_PANTS', 'DECAL', 'CLASSIC_HEAD', 'FACE', 'GEAR', 'ANIMATION', 'TORSO',
  'RIGHT_ARM', 'LEFT_ARM', 'LEFT_LEG', 'RIGHT_LEG', 'PACKAGE', 'PLUGIN', 'MESH_PART', 'HAIR_ACCESSORY', 'FACE_ACCESSORY', 'NECK_ACCESSORY',
  'SHOULDER_ACCESSORY', 'FRONT_ACCESSORY', 'BACK_ACCESSORY', 'WAIST_ACCESSORY', 'CLIMB_ANIMATION', 'DEATH_ANIMATION', 'FALL_ANIMATION',
  'IDLE_ANIMATION', 'JUMP_ANIMATION', 'RUN_ANIMATION', 'SWIM_ANIMATION', 'WALK_ANIMATION', 'POSE_ANIMATION', 'EMOTE_ANIMATION', 'VIDEO',
  'TSHIRT_ACCESSORY', 'SHIRT_ACCESSORY', 'PANTS_ACCESSORY', 'JACKET_ACCESSORY', 'SWEATER_ACCESSORY', 'SHORTS_ACCESSORY', 'LEFT_SHOE_ACCESSORY',
  'RIGHT_SHOE_ACCESSORY', 'DRESS_SKIRT_ACCESSORY', 'EYEBROW_ACCESSORY', 'EYELASH_ACCESSORY', 'MOOD_ANIMATION', 'DYNAMIC_HEAD', 'CREATED_PLACE',
] as const;

/**
 * Enum names a bind may not use, and why. The rest of the enum is ASSET_TYPES. Places are never
 * collectibles, and Roblox lets only a member's own sign-in filter on purchased places.
 */
export const REFUSED_ASSET_TYPES: Record<string, string> = {
  INVENTORY_ITEM_ASSET_TYPE_UNSPECIFIED: 'it is the enum\'s "no type" default, which no item has',
  PURCHASED_PLACE: 'places are never collectibles, and Roblox allows that filter only with a member\'s own sign-in',
};

const KNOWN = new Set<string>(ASSET_TYPES);

/** Why `name` (already upper-cased) cannot be a collectible bind's asset type, or undefined when it can. */
export function assetTypeProblem(name: string): string | undefined {
  if (KNOWN.has(name)) return undefined;
  return REFUSED_ASSET_TYPES[name] ?? "it is not one of Roblox's asset types (for example HAT, FACE, HAIR_ACCESSORY)";
}

/**
 * The key of a set of asset types: sorted names joined by commas, or "*" for every type. A member's
 * collectibles are counted once per key.
 */
export function assetTypesKey(types: readonly string[]): string {
  return types.length === 0 ? '*' : [...new Set(types)].sort().join(',');
}

// The bot's processes in the tests run what `npm start` runs: the bundle, rebuilt from the source.
import { bundle, ENTRIES } from '../build.mjs';

export default async function setup() {
  await bundle(ENTRIES);
}

// The one place the simulator touches the file system: the project's copy of open-ev-data
// (models/training/data/ev-data.json with its MIT licence beside it), parsed once and cached.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEvData, type Vehicle } from './vehicle';

export const EV_DATA_PATH = join(__dirname, '..', 'data', 'ev-data.json');

const cache = new Map<string, Vehicle[]>();

export function loadVehicles(path: string = EV_DATA_PATH): Vehicle[] {
  let vehicles = cache.get(path);
  if (!vehicles) {
    vehicles = parseEvData(JSON.parse(readFileSync(path, 'utf8')));
    if (vehicles.length === 0) throw new Error(`${path}: no usable vehicles`);
    cache.set(path, vehicles);
  }
  return vehicles;
}

import { CUSTOM } from './custom';
import { FEDORA } from './fedora';
import { GENTOO } from './gentoo';
import { Preset, PresetId } from './types';
import { XCP_NG } from './xcp-ng';

export * from './types';

/** Every preset by id; `xcp-ng` is the default example's. */
export const PRESETS: Readonly<Record<PresetId, Preset>> = {
  'xcp-ng': XCP_NG,
  fedora: FEDORA,
  gentoo: GENTOO,
  custom: CUSTOM,
};

export const PRESET_IDS = Object.keys(PRESETS) as PresetId[];

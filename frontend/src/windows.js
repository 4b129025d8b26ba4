// Windows per modality: what opens first and which presets are offered.
//
// CT: the header's window, then the named presets teachers know (Hounsfield units).
// Projection radiography (CR, DX, MG, RF, XA, IO, PX): the header's window (the modality chose
// it for this exposure), a histogram window, the full range; invert is a button of its own.
// MR, US, NM, PT and the rest: their values have no absolute scale, so a histogram window
// (0.5th to 99.5th percentile) comes first.

export const CT_PRESETS = [
  { name: "lung", window: [-600, 1500] },
  { name: "mediastinum", window: [50, 350] },
  { name: "bone", window: [480, 2500] },
  { name: "brain", window: [40, 80] },
  { name: "abdomen", window: [60, 400] },
  { name: "liver", window: [90, 150] },
];
const PROJECTION = new Set(["CR", "DX", "MG", "RF", "XA", "IO", "PX", "DR"]);

function first(meta, tag) {
  const value = meta?.[tag]?.Value?.[0];
  if (value === undefined || value === null || value === "") return null;
  const number = Number(value);
  return Number.isFinite(number) ? number : null;
}

// The window the header gives: Window Center/Width, else the range of its VOI LUT.
export function headerWindow(meta) {
  const center = first(meta, "00281050");
  const width = first(meta, "00281051");
  if (center !== null && width !== null && width > 0) return [center, width];
  const lut = meta?.["00283010"]?.Value?.[0];
  const descriptor = lut?.["00283002"]?.Value;
  if (descriptor && descriptor.length >= 2) {
    const entries = descriptor[0] === 0 ? 65536 : descriptor[0];
    return [descriptor[1] + entries / 2, entries];
  }
  return null;
}

// The preset a series opens with: the header's window when it has one; else soft tissue for
// CT and a histogram window for everything else.
export function initialPreset(presets) {
  const names = presets.map((p) => p.name);
  for (const name of ["header", "abdomen", "auto"]) if (names.includes(name)) return name;
  return names[0];
}

export function presetsFor(modality, colour, hasHeader) {
  if (colour) return [];
  const header = hasHeader ? [{ name: "header" }] : [];
  let list;
  if (modality === "CT") list = [...header, ...CT_PRESETS, { name: "full" }];
  else if (PROJECTION.has(modality)) list = [...header, { name: "auto" }, { name: "full" }];
  else list = [{ name: "auto" }, ...header, { name: "full" }];
  return list.map((preset, i) => ({ ...preset, key: i < 9 ? String(i + 1) : "" }));
}

// [center, width] from the values of an image: 0.5th–99.5th percentile, or min–max (full).
export function autoWindow(values, full = false) {
  const n = values.length;
  if (!n) return null;
  const step = Math.max(1, Math.floor(n / 200000));
  const sample = new Float64Array(Math.ceil(n / step));
  let k = 0;
  for (let i = 0; i < n; i += step) sample[k++] = values[i];
  const sorted = sample.subarray(0, k).sort();
  let low = full ? sorted[0] : sorted[Math.floor(0.005 * (k - 1))];
  let high = full ? sorted[k - 1] : sorted[Math.ceil(0.995 * (k - 1))];
  if (high <= low) {
    low = sorted[0];
    high = sorted[k - 1] + 1;
  }
  return [(low + high) / 2, high - low];
}

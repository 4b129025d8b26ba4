// Orientation markers: which patient direction each edge of the screen faces (DICOM LPS
// patient coordinates: +x left, +y posterior, +z head). The viewer measures the screen's
// directions in world space on the image itself, so rotation and flips are included whatever
// the rendering path.

const LETTERS = [
  ["L", "R"],
  ["P", "A"],
  ["S", "I"],
];

// "L", "R", ... for a direction; two letters for an oblique one (larger component first).
export function directionLabel(v) {
  const parts = v
    .map((c, axis) => ({ c, axis }))
    .filter(({ c }) => Math.abs(c) > 0.3)
    .sort((a, b) => Math.abs(b.c) - Math.abs(a.c))
    .slice(0, 2);
  return parts.map(({ c, axis }) => LETTERS[axis][c > 0 ? 0 : 1]).join("");
}

// Patient-coordinate letters for the four edges, from the world directions that point up and
// right on the screen (rotation and flips included), or null when the image has no
// orientation. ``toPatient`` maps a world direction to a patient one (identity when the header
// has Image Orientation (Patient); built from Patient Orientation for projection images).
export function orientationLabels(up, right, toPatient) {
  if (!up || !right || !toPatient) return null;
  const neg = (v) => v.map((c) => -c);
  const u = toPatient(up);
  const r = toPatient(right);
  if (!u || !r) return null;
  return {
    top: directionLabel(u),
    bottom: directionLabel(neg(u)),
    right: directionLabel(r),
    left: directionLabel(neg(r)),
  };
}

export function unit(from, to) {
  const v = [to[0] - from[0], to[1] - from[1], to[2] - from[2]];
  const length = Math.hypot(...v);
  return length ? v.map((c) => c / length) : null;
}

const AXES = { L: [1, 0, 0], R: [-1, 0, 0], P: [0, 1, 0], A: [0, -1, 0], H: [0, 0, 1],
  F: [0, 0, -1], S: [0, 0, 1], I: [0, 0, -1] };

function letters(text) {
  const v = [0, 0, 0];
  for (const ch of text || "") {
    const axis = AXES[ch];
    if (axis) for (let i = 0; i < 3; i++) v[i] += axis[i];
  }
  const length = Math.hypot(...v);
  return length ? v.map((c) => c / length) : null;
}

// How world directions become patient ones for an image: Image Orientation (Patient) places
// the image in patient space already; Patient Orientation (projection images) names the
// directions of its rows and columns; without either there are no markers.
export function patientMapping(meta) {
  if (meta?.["00200037"]?.Value?.length === 6) return (v) => v;
  const po = meta?.["00200020"]?.Value;
  if (!po || po.length < 2) return null;
  const row = letters(po[0]);
  const column = letters(po[1]);
  if (!row || !column) return null;
  // Without Image Orientation the viewer lays rows along +x and columns along +y.
  return (v) => [0, 1, 2].map((i) => v[0] * row[i] + v[1] * column[i]);
}

// Stands in for modules the viewer never runs (see build.mjs): VTK's XML readers (meshes,
// 3D orientation markers) pull in an XML library written for Node.
export default {};
export const create = undefined;
export const fragment = undefined;

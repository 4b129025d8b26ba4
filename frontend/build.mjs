// Builds the case viewer into ../static/viewer/ (run by `make assets`).
//
// Two entry points: the viewer, and Cornerstone's decode worker (which the viewer starts as
// static/viewer/decodeImageFrameWorker.js). The archive's WADO-RS sends frames uncompressed
// (little endian, colour as RGB), so the image codecs (JPEG, JPEG-LS, JPEG 2000, HTJ2K,
// JPEG XL: WebAssembly modules of several MB) are replaced by a stub that says so: nothing
// here ever asks for a compressed frame. The output is deterministic for a given lockfile
// (no timestamps, no absolute paths), which `make assets-check` relies on.
import * as esbuild from "esbuild";
import fs, { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
// VIEWER_OUT: build somewhere else (the check that the committed bundle is what the lockfile
// builds compares the two folders).
const out = path.resolve(process.env.VIEWER_OUT || path.resolve(here, "../static/viewer"));
const loader = path.join(here, "node_modules/@cornerstonejs/dicom-image-loader/dist/esm");
const stub = path.join(here, "src/no-codec.js");
const CODEC = new RegExp(
  String.raw`[\\/]dicom-image-loader[\\/]dist[\\/]esm[\\/](shared[\\/]decoders[\\/]decode` +
    String.raw`(HTJ2K|JPEG2000|JPEGLS|JPEGBaseline12Bit-js|JPEGLossless|JPEGBaseline8Bit|JPEGXL|` +
    String.raw`DeflatedFrame)\.js|codecs[\\/].*)$`,
);

const EMPTY = path.join(here, "src/empty.js");
const UNUSED = /^xmlbuilder2$/;

// Cornerstone's packages declare no "sideEffects": false, so without this every module they
// list in an index (3D volume tools, segmentation, video, whole-slide viewports, dcmjs) would be
// kept; the viewer's own imports decide what is bundled instead. VTK keeps its side effects
// (rendering profiles register themselves when imported).
const PURE = /[\\/]node_modules[\\/](@cornerstonejs[\\/](core|tools|utils|metadata)|dcmjs|clipper2-ts|d3-[a-z]+)[\\/]/;

const noCodecs = {
  name: "no-codecs",
  setup(build) {
    build.onResolve({ filter: UNUSED }, () => ({ path: EMPTY }));
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      const target = path.resolve(args.resolveDir, args.path);
      return CODEC.test(target) ? { path: stub } : undefined;
    });
  },
};

// Cornerstone writes a style *attribute* on measurement labels, which a Content-Security-Policy
// without 'unsafe-inline' refuses (and reports). The same declarations set through the CSSOM
// are allowed, so the one call is rewritten at build time.
const TEXT_BOX = /[\\/]@cornerstonejs[\\/]tools[\\/]dist[\\/]esm[\\/]drawingSvg[\\/]drawTextBox\.js$/;
const cspSafeStyles = {
  name: "csp-safe-styles",
  setup(build) {
    build.onLoad({ filter: TEXT_BOX }, async (args) => {
      const source = fs.readFileSync(args.path, "utf8");
      const patched = source.replace(
        "textElement.setAttribute('style', combinedStyle);",
        "textElement.style.cssText = combinedStyle;",
      );
      if (patched === source) throw new Error("drawTextBox.js changed: review the CSP patch");
      return { contents: patched, loader: "js" };
    });
  },
};

const pureLibraries = {
  name: "pure-libraries",
  setup(build) {
    build.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData?.pure) return undefined;
      const resolved = await build.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: { pure: true },
      });
      if (resolved.errors.length || !PURE.test(resolved.path)) return undefined;
      if (args.kind === "import-statement") {
        return { ...resolved, sideEffects: false };
      }
      return undefined;
    });
  },
};

const pkg = JSON.parse(readFileSync(path.join(here, "package.json"), "utf8"));
const result = await esbuild.build({
  entryPoints: {
    viewer: path.join(here, "src/viewer.js"),
    decodeImageFrameWorker: path.join(loader, "decodeImageFrameWorker.js"),
  },
  outdir: out,
  bundle: true,
  format: "esm",
  splitting: false,
  minify: true,
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  define: { "process.env.NODE_ENV": '"production"' },
  legalComments: "linked",
  charset: "utf8",
  plugins: [noCodecs, cspSafeStyles, pureLibraries],
  metafile: true,
  logLevel: "warning",
  banner: { js: `/* ${pkg.name}: built by frontend/build.mjs from package-lock.json */` },
});

for (const [file, info] of Object.entries(result.metafile.outputs)) {
  if (file.endsWith(".js")) {
    console.log(`${path.basename(file)}: ${(info.bytes / 1024).toFixed(0)} KiB`);
  }
}
if (process.env.METAFILE) fs.writeFileSync(process.env.METAFILE, JSON.stringify(result.metafile));
if (process.env.ANALYZE) {
  console.log(await esbuild.analyzeMetafile(result.metafile, { verbose: false }));
}

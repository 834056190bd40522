// Bundles the console into dist/: one script, one stylesheet, the page. No CDN, no inline code
// (the page runs under a CSP that allows only 'self' scripts and styles).
import { build } from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
mkdirSync("dist", { recursive: true });
await build({
  entryPoints: ["src/main.js", "src/style.css"],
  bundle: true,
  minify: true,
  sourcemap: false,
  target: ["es2020"],
  outdir: "dist",
  legalComments: "none",
  logLevel: "info",
});
copyFileSync("src/index.html", "dist/index.html");

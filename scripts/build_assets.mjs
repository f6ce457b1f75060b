// Builds rj_scheduler/static/dist from the npm packages: compiles the Sass
// (GOV.UK Frontend + MOJ Frontend with Arial, no GOV.UK font), copies the
// component JavaScript and the images. Built files are not committed.
import { compile } from "sass";
import { cpSync, mkdirSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "rj_scheduler", "static_src");
const out = join(root, "rj_scheduler", "static", "dist");
const nm = join(root, "node_modules");

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "assets", "images"), { recursive: true });

const css = compile(join(src, "app.scss"), {
  loadPaths: [root],
  style: "compressed",
  quietDeps: true,
  silenceDeprecations: ["import"],
  logger: { warn: () => {} },
});
writeFileSync(join(out, "app.css"), css.css);

copyFileSync(join(nm, "govuk-frontend", "dist", "govuk", "govuk-frontend.min.js"), join(out, "govuk-frontend.min.js"));
copyFileSync(join(nm, "@ministryofjustice", "frontend", "moj", "moj-frontend.min.js"), join(out, "moj-frontend.min.js"));
copyFileSync(join(src, "app.mjs"), join(out, "app.mjs"));
copyFileSync(join(src, "favicon.svg"), join(out, "favicon.svg"));

// Images only: the GOV.UK crown and favicons are not used by our templates.
cpSync(join(nm, "govuk-frontend", "dist", "govuk", "assets", "images"), join(out, "assets", "images"), { recursive: true });
cpSync(join(nm, "@ministryofjustice", "frontend", "moj", "assets", "images"), join(out, "assets", "images"), { recursive: true });
console.log(`built front-end assets into ${out}`);

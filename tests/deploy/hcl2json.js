// Prints {"<path>": <JSON of the HCL file>, ...} for the .tf files given as
// arguments, using @cdktf/hcl2json (the HCL parser Terraform uses, compiled to
// WebAssembly). Test helper only.
"use strict";
const fs = require("fs");
const { parse } = require("@cdktf/hcl2json");

async function main(files) {
  const out = {};
  for (const file of files) {
    out[file] = await parse(file, fs.readFileSync(file, "utf8"));
  }
  process.stdout.write(JSON.stringify(out));
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`hcl2json: ${err && err.message ? err.message : err}\n`);
  process.exit(1);
});

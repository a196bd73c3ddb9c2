// Validates Kubernetes objects against the API's JSON schemas with the
// kubernetes-models package. Reads a JSON array of objects on stdin and
// prints a JSON array of {apiVersion, kind, name, namespace, ok, errors}.
// Exit status 0 whether or not objects are invalid (the caller judges);
// 1 only when the input cannot be read. Test helper only.
"use strict";

// apiVersion "group/version" or "version" -> the module folder of the
// package ("v1" for the core group).
function modulePath(apiVersion, kind) {
  if (!/^[a-z0-9.]+(\/v[0-9a-z]+)?$/.test(apiVersion) || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) {
    return null;
  }
  return `kubernetes-models/${apiVersion}/${kind}`;
}

function validateOne(obj) {
  const meta = (obj && obj.metadata) || {};
  const result = {
    apiVersion: obj && obj.apiVersion,
    kind: obj && obj.kind,
    name: meta.name,
    namespace: meta.namespace,
    ok: false,
    errors: [],
  };
  const path = modulePath(String(result.apiVersion), String(result.kind));
  let Model;
  try {
    Model = path && require(path)[result.kind];
  } catch (err) {
    Model = null;
  }
  if (!Model) {
    result.errors.push(`no schema for ${result.apiVersion} ${result.kind}`);
    return result;
  }
  try {
    new Model(obj).validate();
    result.ok = true;
  } catch (err) {
    result.errors.push(String(err && err.message ? err.message : err));
  }
  return result;
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  let objects;
  try {
    objects = JSON.parse(input);
  } catch (err) {
    process.stderr.write(`validate_manifests: stdin is not JSON: ${err.message}\n`);
    process.exit(1);
  }
  if (!Array.isArray(objects)) {
    process.stderr.write("validate_manifests: expected a JSON array of objects\n");
    process.exit(1);
  }
  process.stdout.write(JSON.stringify(objects.map(validateOne)));
});

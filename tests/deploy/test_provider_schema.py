"""deploy/terraform/modules/kubernetes against the hashicorp/kubernetes
provider's schema — the part of `terraform validate` that can be done here.

The provider itself cannot be installed on this machine, so `terraform
validate` skips every root that uses it (test_terraform.py). Its schema is
published on npm, though: @cdktf/provider-kubernetes 12.1.1 is code generated
from hashicorp/kubernetes 2.38.0, one `<struct>ToHclTerraform` function per
block, listing each attribute and nested block with `isBlock`; required
ones show as a comment (blocks) or as an input without a reset method. This test reads those files (it never loads
them) and checks every resource of the module: each argument and block name
exists at its place, blocks are written as blocks and attributes as
attributes, and required arguments are there. It also checks the wiring of
examples/basic (provider arguments, module arguments).

What this does not check, and `terraform validate` would: value types,
references and expressions, and provider-side validation functions.

    python3 -m unittest tests/deploy/test_provider_schema.py -v
"""

from __future__ import annotations

import glob
import os
import re
import sys
import unittest
from dataclasses import dataclass
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import deploytest as dt  # noqa: E402

PACKAGE = os.path.join(dt.HERE, "node_modules", "@cdktf", "provider-kubernetes")
PROVIDER_VERSION = "2.38.0"
K8S_MODULE = os.path.join(dt.TF_ROOT, "modules", "kubernetes")
META_ARGUMENTS = {"count", "for_each", "depends_on", "lifecycle", "provider"}

FUNC_RE = re.compile(r"^function (\w+)ToHclTerraform\(struct\) \{\n(.*?)^\}$", re.S | re.M)
RESOURCE_RE = re.compile(r"^class (\w+) extends cdktf\.Terraform(?:Resource|Provider) \{\n(.*?)^\}$", re.S | re.M)
SYNTH_RE = re.compile(r"synthesizeHclAttributes\(\) \{\n(.*?)\n    \}\n", re.S)
ENTRY_RE = re.compile(r"(\w+): \{\s*value: [^\n]*\n\s*isBlock: (true|false),\s*type: \"(\w+)\",\s*"
                      r"storageClassType: \"(\w+)\",\s*\}")
CLASS_RE = re.compile(r"^class (\w+) extends cdktf\.(\w+) \{\n(.*?)^\}$", re.S | re.M)
# Required blocks carry a comment; a required attribute has an `...Input`
# getter but, unlike an optional one, no `reset...()` method.
REQUIRED_RE = re.compile(r"// (\w+) - computed: (?:true|false), optional: (?:true|false), required: true")
INPUT_RE = re.compile(r"^    get (\w+)Input\(\) \{", re.M)
RESET_RE = re.compile(r"^    reset(\w+)\(\) \{", re.M)


@dataclass
class Field:
    is_block: bool
    kind: str       # simple, list, set, map, struct
    storage: str    # element type, or the nested block's struct (+List)


def pascal(snake: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in snake.split("_"))


def camel(snake: str) -> str:
    p = pascal(snake)
    return p[:1].lower() + p[1:]


class ProviderSchema:
    """Struct name -> {argument: Field}, and struct name -> required names."""

    def __init__(self, package: str):
        self.structs: dict[str, dict[str, Field]] = {}
        self.required: dict[str, set[str]] = {}
        for path in glob.glob(os.path.join(package, "lib", "**", "*.js"), recursive=True):
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
            for name, body in FUNC_RE.findall(text):
                self.structs[name[:1].upper() + name[1:]] = self._entries(body)
            for name, body in RESOURCE_RE.findall(text):
                synth = SYNTH_RE.search(body)
                if synth:
                    self.structs[name] = self._entries(synth.group(1))
            classes = CLASS_RE.findall(text)
            for name, _base, body in classes:
                struct = name[:-len("OutputReference")] if name.endswith("OutputReference") else name
                required = set(REQUIRED_RE.findall(body))
                resettable = {r[:1].lower() + r[1:] for r in RESET_RE.findall(body)}
                required |= {f"camel:{c}" for c in INPUT_RE.findall(body) if c not in resettable}
                if required:
                    self.required.setdefault(struct, set()).update(required)
        # Input getters are named in camelCase: map them to the struct's names.
        for struct, names in self.required.items():
            by_camel = {camel(f): f for f in self.structs.get(struct, {})}
            self.required[struct] = {by_camel.get(n[6:], n[6:]) if n.startswith("camel:") else n for n in names}

    @staticmethod
    def _entries(body: str) -> dict[str, Field]:
        return {n: Field(b == "true", k, s) for n, b, k, s in ENTRY_RE.findall(body)}

    def nested(self, field: Field) -> str | None:
        for candidate in (field.storage, re.sub(r"(List|OutputReference)$", "", field.storage)):
            if candidate in self.structs:
                return candidate
        return None


def is_block_value(value: Any) -> bool:
    """hcl2json writes a block as a list of objects; an attribute never is one here."""
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


class ModuleAgainstProviderSchema(unittest.TestCase):
    schema: ProviderSchema | None = None

    def setUp(self):
        dt.require_node_modules(self)
        if not os.path.isdir(PACKAGE):
            self.skipTest("tests/deploy/node_modules lacks @cdktf/provider-kubernetes (run npm ci there)")
        if ModuleAgainstProviderSchema.schema is None:
            ModuleAgainstProviderSchema.schema = ProviderSchema(PACKAGE)
            ModuleAgainstProviderSchema.module = dt.hcl_module(K8S_MODULE)
        if "KubernetesProvider" not in self.schema.structs:
            self.fail("the provider configuration schema was not found in @cdktf/provider-kubernetes")

    def check_body(self, body: dict[str, Any], struct: str, where: str, problems: list[str]) -> None:
        fields = self.schema.structs.get(struct)
        if fields is None:
            problems.append(f"{where}: no schema struct {struct}")
            return
        present = set()
        for key, value in body.items():
            if key in META_ARGUMENTS:
                continue
            if key == "dynamic":
                for block_name, dynamics in value.items():
                    present.add(block_name)
                    for dyn in dynamics:
                        contents = dyn.get("content", [])
                        self.check_field(block_name, contents, fields, struct, f"{where}.dynamic.{block_name}",
                                         problems)
                continue
            present.add(key)
            self.check_field(key, value, fields, struct, f"{where}.{key}", problems)
        for name in sorted(self.schema.required.get(struct, set()) - present):
            problems.append(f"{where}: required argument {name} is missing")

    def check_field(self, key: str, value: Any, fields: dict[str, Field], struct: str, where: str,
                    problems: list[str]) -> None:
        field = fields.get(key)
        if field is None:
            problems.append(f"{where}: {struct} has no argument or block {key!r} "
                            f"(known: {', '.join(sorted(fields))})")
            return
        if field.is_block != is_block_value(value):
            problems.append(f"{where}: written as {'a block' if is_block_value(value) else 'an attribute'}, "
                            f"the provider has {'a block' if field.is_block else 'an attribute'}")
            return
        if field.is_block:
            nested = self.schema.nested(field)
            if nested is None:
                problems.append(f"{where}: no schema struct for {field.storage}")
                return
            for i, item in enumerate(value):
                self.check_body(item, nested, f"{where}[{i}]", problems)

    def test_schema_was_read(self):
        # Guards the parser: if the generated code changed shape, every check
        # below would pass vacuously.
        structs = self.schema.structs
        self.assertIn("wait_for_completion", structs["JobV1"])
        self.assertTrue(structs["CronJobV1Spec"]["job_template"].is_block)
        self.assertFalse(structs["CronJobV1Spec"]["schedule"].is_block)
        self.assertIn("seccomp_profile", structs["CronJobV1SpecJobTemplateSpecTemplateSpecSecurityContext"])
        self.assertIn("name", self.schema.required["CronJobV1SpecJobTemplateSpecTemplateSpecContainer"])
        self.assertGreater(len(structs), 500)
        with open(os.path.join(PACKAGE, "package.json"), encoding="utf-8") as fh:
            self.assertIn(f'"version": "{PROVIDER_VERSION}"', fh.read())

    def test_every_resource_matches_the_provider_schema(self):
        resources = self.module["resource"]
        self.assertTrue(resources)
        for rtype, named in resources.items():
            struct = pascal(rtype[len("kubernetes_"):])
            for name, body in named.items():
                with self.subTest(resource=f"{rtype}.{name}"):
                    self.assertIn(struct, self.schema.structs, f"the provider has no resource {rtype}")
                    problems: list[str] = []
                    self.check_body(body, struct, f"{rtype}.{name}", problems)
                    self.assertFalse(problems, "\n".join(problems))

    def test_example_basic_wiring(self):
        # examples/basic and examples/controller cannot be validated by
        # terraform here either: their kubernetes provider block must use the
        # provider's arguments, and their module call must set only variables
        # the root module has, and all the required ones; the outputs they
        # read must exist.
        root = dt.hcl_module(dt.TF_ROOT)
        root_vars = root["variable"]
        for name in ("basic", "controller"):
            with self.subTest(example=name):
                example = dt.hcl_module(os.path.join(dt.TF_ROOT, "examples", name))
                provider = next(p["kubernetes"][0] for p in example["provider"] if "kubernetes" in p)
                fields = self.schema.structs["KubernetesProvider"]
                self.assertFalse(set(provider) - set(fields), f"unknown provider arguments; known: {sorted(fields)}")
                call = example["module"]["ecr_renew"]
                args = set(call) - {"source"}
                self.assertFalse(args - set(root_vars), "arguments the root module does not declare")
                required = {n for n, v in root_vars.items() if "default" not in v}
                self.assertFalse(required - args, "required variables not set")
                self.assertEqual(call["source"], "../..")
                used = set(re.findall(r"module\.ecr_renew\.([a-z_]+)", repr(example["output"])))
                self.assertTrue(used)
                self.assertFalse(used - set(root["output"]), "outputs the root module does not declare")
        controller = dt.hcl_module(os.path.join(dt.TF_ROOT, "examples", "controller"))["module"]["ecr_renew"]
        self.assertEqual(controller["mode"], "controller")

    def test_checker_finds_mistakes(self):
        # A control: a misspelt argument, an attribute written as a block and
        # a missing required argument must all be reported.
        body = {"metadata": [{"name": "x", "namespace": "y"}],
                "spec": [{"schedule": "0 */8 * * *", "concurency_policy": "Forbid",
                          "job_template": [{"metadata": [{}], "spec": [{"template": [{"metadata": [{}], "spec": [{
                              "container": [{"image": "i", "args": [{"x": 1}]}]}]}]}]}]}]}
        problems: list[str] = []
        self.check_body(body, "CronJobV1", "cron", problems)
        text = "\n".join(problems)
        self.assertIn("concurency_policy", text)
        self.assertIn("args: written as a block", text)
        self.assertIn("required argument name is missing", text)


if __name__ == "__main__":
    unittest.main()

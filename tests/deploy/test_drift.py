"""Drift between the two ways of deploying ecr-renew.

deploy/terraform/modules/kubernetes/*.tf is read with @cdktf/hcl2json (npm);
deploy/kubernetes/overlays/irsa (with the initial-job component switched on)
is rendered with `kubectl kustomize`. Both must declare the same objects
(names, namespaces), the same RBAC rules (apiGroups, resources,
resourceNames, verbs), the same schedule and concurrencyPolicy, the same pod
and container security contexts, resources and environment variable names.
Terraform values are compared at the variables' defaults, which are what the
manifests hard-code.

Also here, because it needs the same parser: the root module passes every
variable of its submodules and declares them with the same types, defaults
and validations.

The kubernetes provider cannot be installed on this machine, so these static
checks are what stands in for `terraform validate` of modules/kubernetes.

    python3 -m unittest tests/deploy/test_drift.py -v
"""

from __future__ import annotations

import json
import os
import re
import sys
import unittest
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import deploytest as dt  # noqa: E402

K8S_MODULE = os.path.join(dt.TF_ROOT, "modules", "kubernetes")
IAM_MODULE = os.path.join(dt.TF_ROOT, "modules", "iam")

EXPECTED_TF_RESOURCES = {
    "kubernetes_namespace_v1", "kubernetes_service_account_v1", "kubernetes_role_v1",
    "kubernetes_role_binding_v1", "kubernetes_cron_job_v1", "kubernetes_job_v1",
}
EXPECTED_KINDS = ["Namespace", "ServiceAccount", "Role", "RoleBinding", "CronJob", "Job"]
FORBIDDEN_VERBS = {"delete", "deletecollection", "patch", "list", "watch", "*", "escalate", "bind", "impersonate"}

# Root variables whose declaration differs from the submodule's on purpose.
ROOT_DIFFERS = {
    # Required in modules/kubernetes; optional at the root so that a disabled
    # module (ecr_secret_enabled = false, the default) needs no image.
    "image_repository": {"default"},
    # The root's tags are described as "for the AWS resources".
    "tags": set(),
}

INTERP = re.compile(r"^\$\{(.+)\}$", re.S)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


class Unresolved(str):
    """A Terraform expression the test does not evaluate."""


class TfResolver:
    """Evaluates the few expression forms the module uses for names and
    values, at the variables' defaults."""

    def __init__(self, module: dict[str, Any]):
        self.module = module
        self.defaults = {n: v.get("default") for n, v in module["variable"].items()}
        self.locals = module.get("locals", {})

    def __call__(self, value: Any, each_key: str | None = None) -> Any:
        if isinstance(value, list):
            return [self(v, each_key) for v in value]
        if isinstance(value, dict):
            return {k: self(v, each_key) for k, v in value.items()}
        if not isinstance(value, str):
            return value
        m = INTERP.match(value)
        if not m:
            return value
        expr = m.group(1).strip()
        if expr == "each.key" and each_key is not None:
            return each_key
        path = re.fullmatch(r"(var|local)\.([a-z_]+)((?:\.[a-z_]+)*)", expr)
        if path:
            kind, name, rest = path.groups()
            if kind == "var":
                if name not in self.defaults or self.defaults[name] is None:
                    return Unresolved(value)
                cur = self.defaults[name]
            else:
                cur = self(self.locals.get(name, value))
            for part in filter(None, rest.split(".")):
                cur = cur[part]
            return cur
        ref = re.fullmatch(r"(kubernetes_[a-z0-9_]+)\.([a-z_]+)(?:\[[^\]]+\])?\.metadata\[0\]\.([a-z_]+)", expr)
        if ref:
            rtype, rname, field = ref.groups()
            return self(self.module["resource"][rtype][rname]["metadata"][0][field], each_key)
        return Unresolved(value)


def block(body: dict[str, Any], *path: str) -> Any:
    """Follow single nested blocks: block(cj, "spec", "job_template")."""
    cur = body
    for name in path:
        value = cur[name]
        cur = value[0] if isinstance(value, list) else value
    return cur


def tf_security_context(sc: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in sc.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            value = tf_security_context(value[0])
        out[camel(key)] = value
    return out


def tf_pod_template(tmpl: dict[str, Any], resolve: TfResolver) -> dict[str, Any]:
    spec = tmpl["spec"][0]
    containers = []
    for c in spec["container"]:
        env = c.get("env", [])
        containers.append({
            "name": c["name"],
            "args": c.get("args"),
            "imagePullPolicy": resolve(c.get("image_pull_policy")),
            "envNames": sorted(e["name"] for e in env),
            "envValues": {e["name"]: resolve(e.get("value")) for e in env},
            "resources": {k: resolve(v) for k, v in c["resources"][0].items()},
            "securityContext": tf_security_context(c["security_context"][0]),
        })
    return {
        "serviceAccountName": resolve(spec["service_account_name"]),
        "automountServiceAccountToken": spec["automount_service_account_token"],
        "restartPolicy": spec["restart_policy"],
        "securityContext": tf_security_context(spec["security_context"][0]),
        "containers": containers,
    }


def k8s_pod_template(tmpl: dict[str, Any]) -> dict[str, Any]:
    spec = tmpl["spec"]
    containers = []
    for c in spec["containers"]:
        env = c.get("env", [])
        containers.append({
            "name": c["name"],
            "args": c.get("args"),
            "imagePullPolicy": c.get("imagePullPolicy"),
            "envNames": sorted(e["name"] for e in env),
            "envValues": {e["name"]: e.get("value") for e in env},
            "resources": c.get("resources"),
            "securityContext": c.get("securityContext"),
        })
    return {
        "serviceAccountName": spec.get("serviceAccountName"),
        "automountServiceAccountToken": spec.get("automountServiceAccountToken"),
        "restartPolicy": spec.get("restartPolicy"),
        "securityContext": spec.get("securityContext"),
        "containers": containers,
    }


def tf_rules(role: dict[str, Any], resolve: TfResolver) -> list[dict[str, Any]]:
    rules = []
    for r in role["rule"]:
        rule = {"apiGroups": r["api_groups"], "resources": r["resources"], "verbs": r["verbs"]}
        if "resource_names" in r:
            rule["resourceNames"] = resolve(r["resource_names"])
        rules.append(rule)
    return rules


def canonical(rules: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps({k: sorted(v) for k, v in r.items()}, sort_keys=True) for r in rules)


class Drift(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.skip_reason = None
        if not dt.kubectl():
            cls.skip_reason = "kubectl is not installed (needed for kubectl kustomize)"
            return
        if not dt.python_module_available("yaml"):
            cls.skip_reason = "PyYAML is missing (needed to read the rendered manifests)"
            return

    def setUp(self):
        if self.skip_reason:
            self.skipTest(self.skip_reason)
        dt.require_node_modules(self)
        if not hasattr(Drift, "tf"):
            Drift.tf = dt.hcl_module(K8S_MODULE)
            Drift.resolve = TfResolver(Drift.tf)
            with dt.irsa_overlay_with_initial_job() as overlay:
                Drift.objects = dt.kustomize(overlay)

    # -- inventory ------------------------------------------------------------

    def test_same_kinds_of_object(self):
        self.assertEqual(set(self.tf["resource"]), EXPECTED_TF_RESOURCES)
        self.assertEqual(sorted(o["kind"] for o in self.objects), sorted(EXPECTED_KINDS))
        for rtype, named in self.tf["resource"].items():
            self.assertEqual(len(named), 1, f"more than one {rtype}: {sorted(named)}")

    def test_no_cluster_wide_rights_anywhere(self):
        self.assertFalse([t for t in self.tf["resource"] if "cluster_role" in t])
        self.assertFalse([o for o in self.objects if o["kind"].startswith("Cluster")])

    # -- objects --------------------------------------------------------------

    def test_namespace(self):
        tf = self.tf["resource"]["kubernetes_namespace_v1"]["target"]
        self.assertEqual(tf["count"], "${var.ecr_create_namespace ? 1 : 0}")
        self.assertEqual(self.resolve(tf["metadata"][0]["name"]), dt.find(self.objects, "Namespace")["metadata"]["name"])
        self.assertEqual(tf["lifecycle"][0]["ignore_changes"], ["${metadata[0].labels}", "${metadata[0].annotations}"])

    def test_service_account(self):
        tf = self.tf["resource"]["kubernetes_service_account_v1"]["this"]
        sa = dt.find(self.objects, "ServiceAccount")
        meta = tf["metadata"][0]
        self.assertEqual(self.resolve(meta["name"]), sa["metadata"]["name"])
        self.assertEqual(self.resolve(meta["name"]), "ecr-renew-sa")
        self.assertEqual(self.resolve(meta["namespace"]), sa["metadata"]["namespace"])
        self.assertEqual(self.resolve(meta["namespace"]), "kube-system")
        self.assertEqual(tf["automount_service_account_token"], sa.get("automountServiceAccountToken"))
        self.assertEqual(list(meta["annotations"]), ["eks.amazonaws.com/role-arn"])
        self.assertRegex(sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
                         r"^arn:aws:iam::\d{12}:role/eks-ecr-token-renew-")

    def test_role_rules(self):
        tf = self.tf["resource"]["kubernetes_role_v1"]["secrets"]
        role = dt.find(self.objects, "Role")
        self.assertEqual(tf["for_each"], "${toset(local.namespaces)}")
        ns = self.resolve("${var.ecr_secret_namespace}")
        self.assertEqual(tf["metadata"][0]["name"], role["metadata"]["name"])
        self.assertEqual(self.resolve(tf["metadata"][0]["namespace"], each_key=ns), role["metadata"]["namespace"])
        self.assertEqual(canonical(tf_rules(tf, self.resolve)), canonical(role["rules"]))
        for rule in role["rules"]:
            self.assertEqual(rule["apiGroups"], [""])
            self.assertEqual(rule["resources"], ["secrets"])
            self.assertFalse(set(rule["verbs"]) & FORBIDDEN_VERBS, rule)
        verbs = {v for r in role["rules"] for v in r["verbs"]}
        self.assertEqual(verbs, {"get", "create", "update"})

    def test_role_binding(self):
        tf = self.tf["resource"]["kubernetes_role_binding_v1"]["secrets"]
        rb = dt.find(self.objects, "RoleBinding")
        ns = self.resolve("${var.ecr_secret_namespace}")
        self.assertEqual(tf["for_each"], "${toset(local.namespaces)}")
        self.assertEqual(tf["metadata"][0]["name"], rb["metadata"]["name"])
        self.assertEqual(self.resolve(tf["metadata"][0]["namespace"], each_key=ns), rb["metadata"]["namespace"])
        ref = tf["role_ref"][0]
        self.assertEqual({"apiGroup": ref["api_group"], "kind": ref["kind"], "name": self.resolve(ref["name"])},
                         rb["roleRef"])
        subjects = [{"kind": s["kind"], "name": self.resolve(s["name"]), "namespace": self.resolve(s["namespace"])}
                    for s in tf["subject"]]
        self.assertEqual(subjects, rb["subjects"])

    def test_cronjob(self):
        tf = self.tf["resource"]["kubernetes_cron_job_v1"]["renewal"]
        cj = dt.find(self.objects, "CronJob")
        self.assertEqual(tf["metadata"][0]["name"], cj["metadata"]["name"])
        self.assertEqual(self.resolve(tf["metadata"][0]["namespace"]), cj["metadata"]["namespace"])
        spec = tf["spec"][0]
        want = {
            "schedule": self.resolve(spec["schedule"]),
            "concurrencyPolicy": spec["concurrency_policy"],
            "startingDeadlineSeconds": self.resolve(spec["starting_deadline_seconds"]),
            "successfulJobsHistoryLimit": self.resolve(spec["successful_jobs_history_limit"]),
            "failedJobsHistoryLimit": self.resolve(spec["failed_jobs_history_limit"]),
            "suspend": self.resolve(spec["suspend"]),
        }
        self.assertEqual(want, {k: cj["spec"].get(k) for k in want})
        self.assertEqual(want["schedule"], "0 */8 * * *")
        self.assertEqual(want["concurrencyPolicy"], "Forbid")
        job_spec = block(spec, "job_template", "spec")
        self.assertEqual(self.resolve(job_spec["backoff_limit"]), cj["spec"]["jobTemplate"]["spec"]["backoffLimit"])
        self.assertEqual(self.resolve(job_spec["active_deadline_seconds"]),
                         cj["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"])

    def test_pod_template_security_resources_and_env(self):
        tf_tmpl = tf_pod_template(block(self.tf["resource"]["kubernetes_cron_job_v1"]["renewal"],
                                        "spec", "job_template", "spec", "template"), self.resolve)
        k8s_tmpl = k8s_pod_template(dt.find(self.objects, "CronJob")["spec"]["jobTemplate"]["spec"]["template"])
        tf_c, k8s_c = tf_tmpl.pop("containers"), k8s_tmpl.pop("containers")
        self.assertEqual(tf_tmpl, k8s_tmpl)
        self.assertEqual(len(tf_c), 1)
        self.assertEqual(len(k8s_c), 1)
        tf_c, k8s_c = tf_c[0], k8s_c[0]
        for key in ("name", "args", "imagePullPolicy", "envNames", "resources", "securityContext"):
            self.assertEqual(tf_c[key], k8s_c[key], key)
        # Values that come straight from a variable must equal the manifests'.
        for name, value in tf_c["envValues"].items():
            if not isinstance(value, Unresolved) and name != "AWS_REGION":
                self.assertEqual(value, k8s_c["envValues"][name], name)
        # The hardening itself, not only its equality.
        self.assertEqual(tf_tmpl["securityContext"], {
            "runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532, "fsGroup": 65532,
            "seccompProfile": {"type": "RuntimeDefault"}})
        self.assertEqual(tf_c["securityContext"], {
            "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True,
            "runAsUser": 65532, "runAsGroup": 65532, "capabilities": {"drop": ["ALL"]}})
        self.assertEqual(tf_c["args"], ["sync"])
        self.assertIn("AWS_REGION", tf_c["envNames"])

    def test_labels(self):
        cj = dt.find(self.objects, "CronJob")
        pod_labels = cj["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
        self.assertEqual(pod_labels, {"app.kubernetes.io/name": "ecr-renew", "app.kubernetes.io/component": "renewal"})
        tf_locals = json.dumps(self.tf["locals"])
        for key, value in pod_labels.items():
            self.assertRegex(tf_locals, rf'\\"{re.escape(key)}\\"\s*=\s*\\"{value}\\"')
        for o in self.objects:
            if o["kind"] != "Namespace":
                self.assertEqual(o["metadata"]["labels"].get("app.kubernetes.io/name"), "ecr-renew", o["kind"])

    # -- the one-off Job --------------------------------------------------------

    def test_initial_job_matches_cronjob(self):
        tf_job = self.tf["resource"]["kubernetes_job_v1"]["initial"]
        tf_cj = self.tf["resource"]["kubernetes_cron_job_v1"]["renewal"]
        self.assertEqual(tf_job["count"], "${var.create_initial_secret ? 1 : 0}")
        self.assertIs(tf_job["wait_for_completion"], True)
        self.assertIn("create", tf_job["timeouts"][0])
        # Same pod template, to the letter, and the same retry bounds.
        self.assertEqual(block(tf_job, "spec", "template"), block(tf_cj, "spec", "job_template", "spec", "template"))
        for key in ("backoff_limit", "active_deadline_seconds"):
            self.assertEqual(block(tf_job, "spec")[key], block(tf_cj, "spec", "job_template", "spec")[key])
        name = self.resolve(tf_job["metadata"][0]["name"])
        self.assertTrue(name.startswith("ecr-secret-initial-"), name)
        self.assertIn("sha256(jsonencode(local.initial_job_inputs))", name)

        job = dt.find(self.objects, "Job")
        cj = dt.find(self.objects, "CronJob")
        self.assertEqual(job["metadata"]["name"], "ecr-secret-initial")
        self.assertEqual(job["metadata"]["namespace"], cj["metadata"]["namespace"])
        self.assertEqual(job["spec"]["template"], cj["spec"]["jobTemplate"]["spec"]["template"])
        for key in ("backoffLimit", "activeDeadlineSeconds"):
            self.assertEqual(job["spec"][key], cj["spec"]["jobTemplate"]["spec"][key])

    def test_initial_job_name_changes_with_its_inputs(self):
        inputs = self.tf["locals"]["initial_job_inputs"]
        self.assertEqual(set(inputs), {"image", "namespaces", "secret_name", "regions", "registry_ids", "role_arn"})

    # -- root module wiring -------------------------------------------------------

    def test_root_passes_every_submodule_variable(self):
        root = dt.hcl_module(dt.TF_ROOT)
        for name, path in (("kubernetes", K8S_MODULE), ("iam", IAM_MODULE)):
            with self.subTest(module=name):
                call = root["module"][name]
                sub = dt.hcl_module(path)["variable"]
                passed = set(call) - {"source", "count", "providers", "depends_on"}
                optional_unpassed = {"oidc_audience"} if name == "iam" else set()
                self.assertEqual(passed | optional_unpassed, set(sub))
                self.assertEqual(call["count"], "${var.ecr_secret_enabled ? 1 : 0}")

    def test_root_variables_match_submodules(self):
        root = dt.hcl_module(dt.TF_ROOT)["variable"]
        subs = {**dt.hcl_module(IAM_MODULE)["variable"], **dt.hcl_module(K8S_MODULE)["variable"]}
        original = {"ecr_secret_enabled": ("${bool}", False), "ecr_secret_namespace": ("${string}", "runtime"),
                    "ecr_secret_name": ("${string}", "ecr-registry-secret"),
                    "ecr_create_namespace": ("${bool}", True), "ecr_repository_arns": ("${list(string)}", [])}
        for name, (typ, default) in original.items():
            self.assertEqual((root[name]["type"], root[name].get("default")), (typ, default), name)
        for name in ("cluster_name", "oidc_provider", "aws_region"):
            self.assertNotIn("default", root[name], f"{name} is required, as in the original module")
        for name, var in root.items():
            if name not in subs:
                continue
            differs = ROOT_DIFFERS.get(name, set())
            with self.subTest(variable=name):
                self.assertEqual(var["type"], subs[name]["type"])
                if "default" not in differs:
                    self.assertEqual(var.get("default"), subs[name].get("default"))
                if name != "image_repository":
                    self.assertEqual(var.get("validation"), subs[name].get("validation"))
        for name, var in root.items():
            with self.subTest(variable=name):
                self.assertTrue(var.get("description"), f"{name} has no description")
                self.assertIn("type", var, f"{name} has no type")


if __name__ == "__main__":
    unittest.main()

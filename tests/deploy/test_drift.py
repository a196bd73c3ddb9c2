"""Drift between the two ways of deploying ecr-renew.

deploy/terraform/modules/kubernetes/*.tf is read with @cdktf/hcl2json (npm);
deploy/kubernetes/overlays/irsa (with the initial-job component switched on)
is rendered with `kubectl kustomize`. Both must declare the same objects
(names, namespaces), the same RBAC rules (apiGroups, resources,
resourceNames, verbs), the same schedule and concurrencyPolicy, the same pod
and container security contexts, resources and environment variable names.
Terraform values are compared at the variables' defaults, which are what the
manifests hard-code.

The same for mode = "controller": the module's controller resources against
the irsa overlay with the controller, service-monitor and prometheus-rule
components switched on (Deployment, ClusterRole and binding, the leader
election's Role and binding, PodDisruptionBudget, Service, ServiceMonitor,
PrometheusRule; the alert rules to the letter). Which resources exist in
which mode is checked from their count expressions.

The rules that only some options add (service_accounts,
annotated_service_accounts, heal_pods) are locals of the module
(locals.tf): terraform evaluates them with `terraform console`, no provider
needed, for each combination, and they must equal what
components/service-accounts and components/heal-pods add to the manifests,
and be absent when the options are off.

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
import shutil
import subprocess
import sys
import unittest
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import deploytest as dt  # noqa: E402

K8S_MODULE = os.path.join(dt.TF_ROOT, "modules", "kubernetes")
IAM_MODULE = os.path.join(dt.TF_ROOT, "modules", "iam")

# Every resource of the module and when it exists: its count (or, for the
# per-namespace RBAC, for_each) expression.
RESOURCE_GATES = {
    ("kubernetes_namespace_v1", "target"): ("count", "${var.ecr_create_namespace ? 1 : 0}"),
    ("kubernetes_service_account_v1", "this"): (None, None),
    ("kubernetes_role_v1", "secrets"): ("for_each", "${toset(local.role_namespaces)}"),
    ("kubernetes_role_binding_v1", "secrets"): ("for_each", "${toset(local.role_namespaces)}"),
    ("kubernetes_cron_job_v1", "renewal"): ("count", "${local.cronjob ? 1 : 0}"),
    ("kubernetes_job_v1", "initial"): ("count", "${local.cronjob && var.create_initial_secret ? 1 : 0}"),
    ("kubernetes_cluster_role_v1", "controller"): ("count", "${local.controller ? 1 : 0}"),
    ("kubernetes_cluster_role_binding_v1", "controller"): ("count", "${local.controller ? 1 : 0}"),
    ("kubernetes_role_v1", "leader_election"): ("count", "${local.controller ? 1 : 0}"),
    ("kubernetes_role_binding_v1", "leader_election"): ("count", "${local.controller ? 1 : 0}"),
    ("kubernetes_deployment_v1", "controller"): ("count", "${local.controller ? 1 : 0}"),
    ("kubernetes_pod_disruption_budget_v1", "controller"): ("count", "${local.controller ? 1 : 0}"),
    ("kubernetes_service_v1", "metrics"): ("count", "${local.controller ? 1 : 0}"),
    ("kubernetes_manifest", "service_monitor"):
        ("count", "${local.controller && var.service_monitor_enabled ? 1 : 0}"),
    ("kubernetes_manifest", "prometheus_rule"):
        ("count", "${local.controller && var.prometheus_rule_enabled ? 1 : 0}"),
}
CRONJOB_RESOURCES = {("kubernetes_namespace_v1", "target"), ("kubernetes_service_account_v1", "this"),
                     ("kubernetes_role_v1", "secrets"), ("kubernetes_role_binding_v1", "secrets"),
                     ("kubernetes_cron_job_v1", "renewal"), ("kubernetes_job_v1", "initial")}
EXPECTED_KINDS = ["Namespace", "ServiceAccount", "Role", "RoleBinding", "CronJob", "Job"]
CONTROLLER_KINDS = ["Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
                    "Deployment", "PodDisruptionBudget", "Service", "ServiceMonitor", "PrometheusRule"]
FORBIDDEN_VERBS = {"delete", "deletecollection", "patch", "list", "watch", "*", "escalate", "bind", "impersonate"}
# The controller's rights, exactly: (resource, resourceNames, verbs).
CONTROLLER_RBAC = {
    ("namespaces", (), ("list", "watch")),
    ("secrets", (), ("create",)),
    ("secrets", ("ecr-registry-secret",), ("get", "list", "patch", "update", "watch")),
    ("events", (), ("create", "patch")),
}
# The leader election's Role, in kube-system, exactly.
LEASE_RBAC = {
    ("leases", (), ("create",)),
    ("leases", ("ecr-renew",), ("get", "update")),
}
# What each option adds to the ClusterRole (mode controller) or to sync's
# Role in each namespace (mode cronjob), as rbac_table rows.
SA_DEFAULT_CONTROLLER_RBAC = {("serviceaccounts", ("default",), ("get", "list", "patch", "watch"))}
SA_DEFAULT_SYNC_RBAC = {("serviceaccounts", ("default",), ("get", "patch"))}
HEAL_RBAC = {("pods", (), ("delete", "list", "watch")), ("serviceaccounts", (), ("get", "list", "watch"))}

# Root variables whose declaration differs from the submodule's on purpose.
ROOT_DIFFERS = {
    # Required in modules/kubernetes; optional at the root so that a disabled
    # module (ecr_secret_enabled = false, the default) needs no image.
    "image_repository": {"default"},
    # The root's tags are described as "for the AWS resources".
    "tags": set(),
}

CONTROLLER_SELECTOR = {"app.kubernetes.io/name": "ecr-renew", "app.kubernetes.io/component": "controller"}

INTERP = re.compile(r"^\$\{(.+)\}$", re.S)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


class Unresolved(str):
    """A Terraform expression the test does not evaluate."""


class TfResolver:
    """Evaluates the few expression forms the module uses for names and
    values, at the variables' defaults."""

    def __init__(self, module: dict[str, Any], **values: Any):
        self.module = module
        self.defaults = {n: v.get("default") for n, v in module["variable"].items()}
        self.defaults.update(values)
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
            return self.template(value, each_key)
        expr = m.group(1).strip()
        join = re.fullmatch(r'join\(",", ((?:var|local)\.[a-z_]+)\)', expr)
        if join:
            items = self("${" + join.group(1) + "}", each_key)
            return Unresolved(value) if isinstance(items, Unresolved) else ",".join(items)
        if expr == "each.key" and each_key is not None:
            return each_key
        tostr = re.fullmatch(r"tostring\((var\.[a-z_]+)\)", expr)
        if tostr:
            v = self("${" + tostr.group(1) + "}", each_key)
            if isinstance(v, Unresolved):
                return v
            return str(v).lower() if isinstance(v, bool) else str(int(v) if isinstance(v, float) and v.is_integer()
                                                                   else v)
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

    def template(self, value: str, each_key: str | None) -> Any:
        """A string with ${...} parts inside (":${var.listen_port}")."""
        parts = re.split(r"(\$\{[^{}]+\})", value)
        if len(parts) == 1:
            return value
        out = []
        for part in parts:
            if part.startswith("${"):
                part = self(part, each_key)
                if isinstance(part, (Unresolved, dict, list)):
                    return Unresolved(value)
            out.append(str(part))
        return "".join(out)


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
    """The static rule blocks (the dynamic ones, for the options, are
    evaluated by terraform: see OptionRules)."""
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
        self.assertEqual({(rtype, name) for rtype, named in self.tf["resource"].items() for name in named},
                         set(RESOURCE_GATES))
        self.assertEqual(sorted(o["kind"] for o in self.objects), sorted(EXPECTED_KINDS))

    def test_mode_gates_every_resource(self):
        # Which resources exist in which mode: mode cronjob (the default) is
        # exactly today's set, mode controller replaces the CronJob, the Job
        # and the Roles.
        self.assertEqual(self.tf["locals"]["cronjob"], '${var.mode == "cronjob"}')
        self.assertEqual(self.tf["locals"]["controller"], '${var.mode == "controller"}')
        self.assertEqual(self.tf["locals"]["role_namespaces"], "${local.cronjob ? local.namespaces : []}")
        self.assertEqual(self.tf["variable"]["mode"]["default"], "cronjob")
        for (rtype, name), (meta, expr) in RESOURCE_GATES.items():
            with self.subTest(resource=f"{rtype}.{name}"):
                body = self.tf["resource"][rtype][name]
                if meta is None:
                    self.assertFalse({"count", "for_each"} & set(body))
                else:
                    self.assertEqual(body[meta], expr)
                    self.assertNotIn({"count": "for_each", "for_each": "count"}[meta], body)
                gated_by_controller = "local.controller" in (expr or "")
                self.assertEqual((rtype, name) not in CRONJOB_RESOURCES, gated_by_controller)

    def test_cronjob_keeps_its_state_address(self):
        # The CronJob gained a count with mode: a moved block turns the
        # existing renewal into renewal[0] instead of replacing it.
        moved = [m for blocks in self.tf.get("moved", []) for m in blocks]
        self.assertIn({"from": "${kubernetes_cron_job_v1.renewal}", "to": "${kubernetes_cron_job_v1.renewal[0]}"},
                      moved)

    def test_cronjob_refuses_globs(self):
        pres = self.tf["resource"]["kubernetes_cron_job_v1"]["renewal"]["lifecycle"][0]["precondition"]
        (pre,) = [p for p in pres if "var.ecr_secret_namespaces" in p["condition"]]
        self.assertIn('mode = "controller"', pre["error_message"])

    def test_cronjob_refuses_heal_pods(self):
        # heal_pods is for the controller only; the CronJob exists exactly in
        # mode cronjob, so its precondition is where the mode is known.
        pres = self.tf["resource"]["kubernetes_cron_job_v1"]["renewal"]["lifecycle"][0]["precondition"]
        (pre,) = [p for p in pres if "heal_pods" in p["condition"]]
        self.assertEqual(pre["condition"], "${!var.heal_pods}")
        self.assertIn('heal_pods needs mode = "controller"', pre["error_message"])
        self.assertEqual(len(pres), 2)

    def test_no_cluster_wide_rights_in_mode_cronjob(self):
        for rtype in self.tf["resource"]:
            if "cluster_role" in rtype:
                for name, body in self.tf["resource"][rtype].items():
                    self.assertEqual(body["count"], "${local.controller ? 1 : 0}", f"{rtype}.{name}")
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
        self.assertEqual(tf["for_each"], "${toset(local.role_namespaces)}")
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
        self.assertEqual(tf["for_each"], "${toset(local.role_namespaces)}")
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
        self.assertEqual(tf_job["count"], "${local.cronjob && var.create_initial_secret ? 1 : 0}")
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
        # The inputs of old, and sync's ServiceAccount variables only when
        # set: an installation without them keeps its Job name (test_terraform
        # checks the hash itself).
        inputs = self.tf["locals"]["initial_job_inputs"]
        m = re.fullmatch(r"\$\{merge\(\{(.*)\}, (.*)\)\}", inputs, re.S)
        self.assertIsNotNone(m, inputs)
        keys = re.findall(r"^\s*([a-z_]+)\s*=", m.group(1), re.M)
        self.assertEqual(set(keys), {"image", "namespaces", "secret_name", "regions", "registry_ids", "role_arn"})
        self.assertEqual(m.group(2),
                         "length(local.sync_account_env) > 0 ? { service_accounts = local.sync_account_env } : {}")

    def test_sync_account_settings_reach_the_jobs_and_the_role(self):
        # Mode cronjob: the ServiceAccount variables as a dynamic env of both
        # pod templates (identical, see test_initial_job_matches_cronjob) and
        # a dynamic rule of sync's Role; their values are OptionRules'.
        cj_c = block(self.tf["resource"]["kubernetes_cron_job_v1"]["renewal"], "spec", "job_template", "spec",
                     "template", "spec")["container"][0]
        (env,) = cj_c["dynamic"]["env"]
        self.assertEqual(env["for_each"], "${local.sync_account_env}")
        self.assertEqual(env["content"], [{"name": "${env.key}", "value": "${env.value}"}])
        role = self.tf["resource"]["kubernetes_role_v1"]["secrets"]
        assert_passthrough_rule(self, role, "${local.sync_account_rules}")

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


def tf_probe(probe: dict[str, Any]) -> dict[str, Any]:
    out = {camel(k): v for k, v in probe.items() if k != "http_get"}
    out["httpGet"] = {camel(k): v for k, v in probe["http_get"][0].items()}
    return out


def tf_env_value(e: dict[str, Any], resolve: TfResolver) -> Any:
    """An env block as the manifests write it: its value, or {"fieldRef": ...}."""
    if "value_from" in e:
        (field_ref,) = e["value_from"][0]["field_ref"]
        return {"fieldRef": {camel(k): v for k, v in field_ref.items()}}
    return resolve(e["value"])


def k8s_env_value(e: dict[str, Any]) -> Any:
    return e["valueFrom"] if "valueFrom" in e else e.get("value")


def tf_anti_affinity(spec: dict[str, Any], resolve: TfResolver) -> dict[str, Any]:
    anti = block(spec, "affinity", "pod_anti_affinity")
    terms = []
    for pref in anti["preferred_during_scheduling_ignored_during_execution"]:
        term = block(pref, "pod_affinity_term")
        terms.append({"weight": pref["weight"], "podAffinityTerm": {
            "topologyKey": term["topology_key"],
            "labelSelector": {"matchLabels": resolve(block(term, "label_selector")["match_labels"])}}})
    return {"preferredDuringSchedulingIgnoredDuringExecution": terms}


def assert_passthrough_rule(test: unittest.TestCase, role: dict[str, Any], for_each: str) -> None:
    """The role's one dynamic rule writes each rule of the local as it is
    (an empty resource_names: every name), so the local is the truth."""
    (dyn,) = role["dynamic"]["rule"]
    test.assertEqual(dyn["for_each"], for_each)
    test.assertEqual(dyn["content"], [{
        "api_groups": "${rule.value.api_groups}", "resources": "${rule.value.resources}",
        "resource_names": "${length(rule.value.resource_names) > 0 ? rule.value.resource_names : null}",
        "verbs": "${rule.value.verbs}"}])


def tf_controller_pod(tmpl: dict[str, Any], resolve: TfResolver) -> dict[str, Any]:
    spec = tmpl["spec"][0]
    (c,) = spec["container"]
    return {
        "serviceAccountName": resolve(spec["service_account_name"]),
        "automountServiceAccountToken": spec["automount_service_account_token"],
        "enableServiceLinks": spec["enable_service_links"],
        "terminationGracePeriodSeconds": spec["termination_grace_period_seconds"],
        "securityContext": tf_security_context(spec["security_context"][0]),
        "container": {
            "name": c["name"],
            "args": c["args"],
            "imagePullPolicy": resolve(c["image_pull_policy"]),
            "ports": [{camel(k): resolve(v) for k, v in port.items()} for port in c["port"]],
            "env": {e["name"]: tf_env_value(e, resolve) for e in c["env"]},
            "livenessProbe": tf_probe(c["liveness_probe"][0]),
            "readinessProbe": tf_probe(c["readiness_probe"][0]),
            "resources": {k: resolve(v) for k, v in c["resources"][0].items()},
            "securityContext": tf_security_context(c["security_context"][0]),
        },
    }


def k8s_controller_pod(tmpl: dict[str, Any]) -> dict[str, Any]:
    spec = tmpl["spec"]
    (c,) = spec["containers"]
    return {
        "serviceAccountName": spec.get("serviceAccountName"),
        "automountServiceAccountToken": spec.get("automountServiceAccountToken"),
        "enableServiceLinks": spec.get("enableServiceLinks"),
        "terminationGracePeriodSeconds": spec.get("terminationGracePeriodSeconds"),
        "securityContext": spec.get("securityContext"),
        "container": {
            "name": c["name"],
            "args": c.get("args"),
            "imagePullPolicy": c.get("imagePullPolicy"),
            "ports": c.get("ports"),
            "env": {e["name"]: k8s_env_value(e) for e in c.get("env", [])},
            "livenessProbe": c.get("livenessProbe"),
            "readinessProbe": c.get("readinessProbe"),
            "resources": c.get("resources"),
            "securityContext": c.get("securityContext"),
        },
    }


def rbac_table(rules: list[dict[str, Any]]) -> set[tuple]:
    table = set()
    for r in rules:
        for resource in r["resources"]:
            table.add((resource, tuple(sorted(r.get("resourceNames") or ())), tuple(sorted(r["verbs"]))))
    return table


class ControllerDrift(unittest.TestCase):
    """mode = "controller" against the irsa overlay with the controller,
    service-monitor and prometheus-rule components."""

    @classmethod
    def setUpClass(cls):
        cls.skip_reason = None
        if not dt.kubectl():
            cls.skip_reason = "kubectl is not installed (needed for kubectl kustomize)"
        elif not dt.python_module_available("yaml"):
            cls.skip_reason = "PyYAML is missing (needed to read the rendered manifests)"

    def setUp(self):
        if self.skip_reason:
            self.skipTest(self.skip_reason)
        dt.require_node_modules(self)
        if not hasattr(ControllerDrift, "tf"):
            ControllerDrift.tf = dt.hcl_module(K8S_MODULE)
            ControllerDrift.resolve = TfResolver(ControllerDrift.tf)
            with dt.irsa_overlay_with_controller() as overlay:
                ControllerDrift.objects = dt.kustomize(overlay)
            with dt.irsa_overlay_with_initial_job() as overlay:
                ControllerDrift.cronjob_objects = dt.kustomize(overlay)

    def res(self, rtype: str, name: str) -> dict[str, Any]:
        return self.tf["resource"][rtype][name]

    def test_same_kinds_of_object(self):
        self.assertEqual(sorted(o["kind"] for o in self.objects), sorted(CONTROLLER_KINDS))
        in_controller_mode = {(rtype, n) for (rtype, n), (_m, expr) in RESOURCE_GATES.items()
                              if expr is None or not re.search(r"local\.(cronjob|role_namespaces)", expr)}
        self.assertEqual(in_controller_mode, {
            ("kubernetes_namespace_v1", "target"), ("kubernetes_service_account_v1", "this"),
            ("kubernetes_cluster_role_v1", "controller"), ("kubernetes_cluster_role_binding_v1", "controller"),
            ("kubernetes_role_v1", "leader_election"), ("kubernetes_role_binding_v1", "leader_election"),
            ("kubernetes_deployment_v1", "controller"), ("kubernetes_pod_disruption_budget_v1", "controller"),
            ("kubernetes_service_v1", "metrics"), ("kubernetes_manifest", "service_monitor"),
            ("kubernetes_manifest", "prometheus_rule")})
        # The only Role and RoleBinding left in mode controller are the
        # leader election's, in kube-system: sync's are gone.
        for kind in ("Role", "RoleBinding"):
            obj = dt.find(self.objects, kind)
            self.assertEqual((obj["metadata"]["name"], obj["metadata"]["namespace"]),
                             ("ecr-renew-leader-election", "kube-system"))

    def test_cluster_role_is_exactly_the_minimal_set(self):
        tf = self.res("kubernetes_cluster_role_v1", "controller")
        role = dt.find(self.objects, "ClusterRole")
        self.assertEqual(tf["metadata"][0]["name"], role["metadata"]["name"])
        self.assertEqual(role["metadata"]["name"], "ecr-renew-controller")
        self.assertNotIn("namespace", tf["metadata"][0])
        self.assertEqual(canonical(tf_rules(tf, self.resolve)), canonical(role["rules"]))
        for rule in role["rules"]:
            self.assertEqual(rule["apiGroups"], [""])
        self.assertEqual(rbac_table(role["rules"]), CONTROLLER_RBAC)
        verbs = {v for r in role["rules"] for v in r["verbs"]}
        self.assertFalse(verbs & {"delete", "deletecollection", "*", "escalate", "bind", "impersonate"})
        # The options' rules come from one local, empty by default (OptionRules
        # evaluates it).
        assert_passthrough_rule(self, tf, "${local.controller_extra_rules}")

    def test_leader_election_role_and_binding(self):
        for rtype, kind in (("kubernetes_role_v1", "Role"), ("kubernetes_role_binding_v1", "RoleBinding")):
            with self.subTest(kind=kind):
                tf = self.res(rtype, "leader_election")
                obj = dt.find(self.objects, kind, "ecr-renew-leader-election")
                meta = tf["metadata"][0]
                self.assertEqual((meta["name"], self.resolve(meta["namespace"])),
                                 (obj["metadata"]["name"], obj["metadata"]["namespace"]))
                self.assertEqual(obj["metadata"]["namespace"], "kube-system")
                self.assertEqual(obj["metadata"]["labels"], {"app.kubernetes.io/name": "ecr-renew"})
        tf = self.res("kubernetes_role_v1", "leader_election")
        role = dt.find(self.objects, "Role", "ecr-renew-leader-election")
        self.assertEqual(canonical(tf_rules(tf, self.resolve)), canonical(role["rules"]))
        self.assertNotIn("dynamic", tf)
        for rule in role["rules"]:
            self.assertEqual(rule["apiGroups"], ["coordination.k8s.io"])
        self.assertEqual(rbac_table(role["rules"]), LEASE_RBAC)
        tf = self.res("kubernetes_role_binding_v1", "leader_election")
        rb = dt.find(self.objects, "RoleBinding", "ecr-renew-leader-election")
        ref = tf["role_ref"][0]
        self.assertEqual(ref["name"], "${kubernetes_role_v1.leader_election[0].metadata[0].name}")
        self.assertEqual({"apiGroup": ref["api_group"], "kind": ref["kind"], "name": self.resolve(ref["name"])},
                         rb["roleRef"])
        subjects = [{"kind": s["kind"], "name": self.resolve(s["name"]), "namespace": self.resolve(s["namespace"])}
                    for s in tf["subject"]]
        self.assertEqual(subjects, rb["subjects"])
        self.assertEqual(subjects, [{"kind": "ServiceAccount", "name": "ecr-renew-sa", "namespace": "kube-system"}])
        # The Lease they are about is the one the controller is told to use,
        # in the pod's own namespace (where the Role is).
        env = {e["name"]: k8s_env_value(e) for e in dt.find(self.objects, "Deployment")["spec"]["template"]["spec"][
            "containers"][0]["env"]}
        self.assertEqual(env["ECR_RENEW_LEADER_ELECT"], "true")
        self.assertEqual(env["ECR_RENEW_LEASE_NAME"], "ecr-renew")
        self.assertEqual(env["ECR_RENEW_LEASE_NAMESPACE"],
                         {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}})
        self.assertEqual(self.resolve("${local.lease_name}"), "ecr-renew")

    def test_pod_disruption_budget(self):
        tf = self.res("kubernetes_pod_disruption_budget_v1", "controller")
        pdb = dt.find(self.objects, "PodDisruptionBudget")
        meta = tf["metadata"][0]
        self.assertEqual((meta["name"], self.resolve(meta["namespace"])),
                         (pdb["metadata"]["name"], pdb["metadata"]["namespace"]))
        self.assertEqual((pdb["metadata"]["name"], pdb["metadata"]["namespace"]), ("ecr-renew", "kube-system"))
        self.assertEqual(meta["labels"], "${local.controller_labels}")
        spec = tf["spec"][0]
        self.assertEqual(set(spec), {"max_unavailable", "selector"})
        self.assertEqual({"maxUnavailable": int(spec["max_unavailable"]),
                          "selector": {"matchLabels": self.resolve(block(spec, "selector")["match_labels"])}},
                         pdb["spec"])
        # maxUnavailable 1, never minAvailable: drains proceed whatever the
        # replicas, one pod at a time; and it selects exactly the
        # Deployment's pods.
        self.assertEqual(pdb["spec"]["maxUnavailable"], 1)
        dep = dt.find(self.objects, "Deployment")
        self.assertEqual(pdb["spec"]["selector"], dep["spec"]["selector"])

    def test_cluster_role_binding(self):
        tf = self.res("kubernetes_cluster_role_binding_v1", "controller")
        crb = dt.find(self.objects, "ClusterRoleBinding")
        self.assertEqual(tf["metadata"][0]["name"], crb["metadata"]["name"])
        ref = tf["role_ref"][0]
        self.assertEqual(ref["name"], "${kubernetes_cluster_role_v1.controller[0].metadata[0].name}")
        self.assertEqual({"apiGroup": ref["api_group"], "kind": ref["kind"],
                          "name": self.resolve(ref["name"])}, crb["roleRef"])
        subjects = [{"kind": s["kind"], "name": self.resolve(s["name"]), "namespace": self.resolve(s["namespace"])}
                    for s in tf["subject"]]
        self.assertEqual(subjects, crb["subjects"])
        self.assertEqual(subjects, [{"kind": "ServiceAccount", "name": "ecr-renew-sa", "namespace": "kube-system"}])

    def test_deployment(self):
        tf = self.res("kubernetes_deployment_v1", "controller")
        dep = dt.find(self.objects, "Deployment")
        meta = tf["metadata"][0]
        self.assertEqual((meta["name"], self.resolve(meta["namespace"])),
                         (dep["metadata"]["name"], dep["metadata"]["namespace"]))
        self.assertEqual((dep["metadata"]["name"], dep["metadata"]["namespace"]), ("ecr-renew", "kube-system"))
        spec = tf["spec"][0]
        self.assertEqual(spec["replicas"], "${var.controller_replicas}")
        self.assertEqual(self.resolve(spec["replicas"]), dep["spec"]["replicas"])
        self.assertEqual(dep["spec"]["replicas"], 2)
        self.assertEqual(tf["depends_on"], ["${kubernetes_cluster_role_binding_v1.controller}",
                                            "${kubernetes_role_binding_v1.leader_election}"])
        self.assertEqual(self.resolve(block(spec, "selector")["match_labels"]), dep["spec"]["selector"]["matchLabels"])
        strategy = block(spec, "strategy")
        rolling = block(strategy, "rolling_update")
        self.assertEqual({"type": strategy["type"], "rollingUpdate": {"maxSurge": int(rolling["max_surge"]),
                                                                      "maxUnavailable": int(rolling["max_unavailable"])}},
                         dep["spec"]["strategy"])
        self.assertEqual(tf["wait_for_rollout"], "${var.create_initial_secret}")
        self.assertEqual(tf["timeouts"][0], {"create": "${var.initial_secret_timeout}",
                                             "update": "${var.initial_secret_timeout}"})

    def test_pod_template(self):
        tf_pod = tf_controller_pod(block(self.res("kubernetes_deployment_v1", "controller"), "spec", "template"),
                                   self.resolve)
        k8s_pod = k8s_controller_pod(dt.find(self.objects, "Deployment")["spec"]["template"])
        tf_c, k8s_c = tf_pod.pop("container"), k8s_pod.pop("container")
        self.assertEqual(tf_pod, k8s_pod)
        for key in ("name", "args", "imagePullPolicy", "ports", "livenessProbe", "readinessProbe", "resources",
                    "securityContext"):
            self.assertEqual(tf_c[key], k8s_c[key], key)
        self.assertEqual(sorted(tf_c["env"]), sorted(k8s_c["env"]))
        for name, value in tf_c["env"].items():
            if not isinstance(value, Unresolved) and name != "AWS_REGION":
                self.assertEqual(value, k8s_c["env"][name], name)
        self.assertEqual(tf_c["env"]["ECR_RENEW_LISTEN"], ":8080")
        self.assertEqual(tf_c["args"], ["run"])
        self.assertEqual(tf_c["ports"], [{"name": "http", "containerPort": 8080, "protocol": "TCP"}])
        self.assertEqual(tf_c["livenessProbe"]["httpGet"], {"path": "/healthz", "port": "http"})
        self.assertEqual(tf_c["readinessProbe"]["httpGet"], {"path": "/readyz", "port": "http"})
        self.assertEqual(tf_c["resources"], {"requests": {"cpu": "10m", "memory": "32Mi"},
                                             "limits": {"cpu": "200m", "memory": "64Mi"}})
        # Leader election, the downward API, and the options at their
        # defaults (off), to the letter in both.
        field = lambda path: {"fieldRef": {"apiVersion": "v1", "fieldPath": path}}
        want = {"ECR_RENEW_LEADER_ELECT": "true", "ECR_RENEW_LEASE_NAME": "ecr-renew",
                "ECR_RENEW_LEASE_NAMESPACE": field("metadata.namespace"), "POD_NAME": field("metadata.name"),
                "POD_NAMESPACE": field("metadata.namespace"), "ECR_RENEW_SERVICE_ACCOUNTS": "",
                "ECR_RENEW_ANNOTATED_SERVICE_ACCOUNTS": "false", "ECR_RENEW_HEAL_PODS": "false",
                "ECR_RENEW_HEAL_RATE": "10"}
        self.assertEqual({k: tf_c["env"][k] for k in want}, want)
        self.assertEqual({k: k8s_c["env"][k] for k in want}, want)

    def test_env_follows_the_variables(self):
        # The options' variables reach the controller's environment as the
        # binary reads them (str_is_true, a comma-separated list, a number).
        resolve = TfResolver(self.tf, service_accounts=["default", "builder"], annotated_service_accounts=True,
                             heal_pods=True, heal_rate=30)
        (c,) = block(self.res("kubernetes_deployment_v1", "controller"), "spec", "template", "spec")["container"]
        env = {e["name"]: tf_env_value(e, resolve) for e in c["env"]}
        self.assertEqual({k: env[k] for k in ("ECR_RENEW_SERVICE_ACCOUNTS", "ECR_RENEW_ANNOTATED_SERVICE_ACCOUNTS",
                                              "ECR_RENEW_HEAL_PODS", "ECR_RENEW_HEAL_RATE")},
                         {"ECR_RENEW_SERVICE_ACCOUNTS": "default,builder",
                          "ECR_RENEW_ANNOTATED_SERVICE_ACCOUNTS": "true", "ECR_RENEW_HEAL_PODS": "true",
                          "ECR_RENEW_HEAL_RATE": "30"})

    def test_pod_anti_affinity(self):
        # Preferred (not required) anti-affinity by hostname over the
        # Deployment's own pods, in both; node_affinity stays the variable's.
        tf_spec = block(self.res("kubernetes_deployment_v1", "controller"), "spec", "template", "spec")
        k8s_spec = dt.find(self.objects, "Deployment")["spec"]["template"]["spec"]
        self.assertEqual(set(k8s_spec["affinity"]), {"podAntiAffinity"})
        self.assertEqual(tf_anti_affinity(tf_spec, self.resolve), k8s_spec["affinity"]["podAntiAffinity"])
        self.assertEqual(k8s_spec["affinity"]["podAntiAffinity"], {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 100, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname",
                                                "labelSelector": {"matchLabels": CONTROLLER_SELECTOR}}}]})
        self.assertEqual(set(block(tf_spec, "affinity")), {"dynamic", "pod_anti_affinity"})
        self.assertEqual(list(block(tf_spec, "affinity")["dynamic"]), ["node_affinity"])

    def test_same_hardening_and_settings_as_the_cronjob(self):
        # The controller's pod is hardened like the job's, and the settings
        # both have come from the same variables, in both deployments.
        cj = block(self.res("kubernetes_cron_job_v1", "renewal"), "spec", "job_template", "spec", "template", "spec")
        dep = block(self.res("kubernetes_deployment_v1", "controller"), "spec", "template", "spec")
        for key in ("service_account_name", "security_context", "priority_class_name", "node_selector"):
            self.assertEqual(cj[key], dep[key], key)
        self.assertEqual(set(cj["dynamic"]), {"image_pull_secrets", "toleration", "affinity"})
        self.assertEqual(set(dep["dynamic"]), {"image_pull_secrets", "toleration"})
        for key in ("image_pull_secrets", "toleration"):
            self.assertEqual(cj["dynamic"][key], dep["dynamic"][key], key)
        # The jobs' optional affinity block holds node_affinity; the
        # controller's affinity always exists (anti-affinity) and holds the
        # same node_affinity as an optional block, the same terms.
        (cj_aff,) = cj["dynamic"]["affinity"]
        (dep_na,) = block(dep, "affinity")["dynamic"]["node_affinity"]
        self.assertEqual(cj_aff["for_each"], dep_na["for_each"])
        self.assertEqual(json.dumps(cj_aff["content"][0]["node_affinity"]).replace("affinity.value.", "@"),
                         json.dumps(dep_na["content"]).replace("node_affinity.value.", "@"))
        cj_c, dep_c = cj["container"][0], dep["container"][0]
        for key in ("name", "image", "image_pull_policy", "security_context"):
            self.assertEqual(cj_c[key], dep_c[key], key)
        cj_env = {e["name"]: e["value"] for e in cj_c["env"]}
        dep_env = {e["name"]: e.get("value", e.get("value_from")) for e in dep_c["env"]}
        self.assertLessEqual(set(cj_env), set(dep_env))
        for name in cj_env:
            self.assertEqual(cj_env[name], dep_env[name], name)
        self.assertEqual(set(dep_env) - set(cj_env),
                         {"ECR_RENEW_EXCLUDE_NAMESPACES", "ECR_RENEW_NAMESPACE_SELECTOR", "ECR_RENEW_LISTEN",
                          "ECR_RENEW_LEADER_ELECT", "ECR_RENEW_LEASE_NAME", "ECR_RENEW_LEASE_NAMESPACE", "POD_NAME",
                          "POD_NAMESPACE", "ECR_RENEW_SERVICE_ACCOUNTS", "ECR_RENEW_ANNOTATED_SERVICE_ACCOUNTS",
                          "ECR_RENEW_HEAL_PODS", "ECR_RENEW_HEAL_RATE"})
        k8s_cj = dt.find(self.cronjob_objects, "CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        k8s_dep = dt.find(self.objects, "Deployment")["spec"]["template"]["spec"]
        self.assertEqual(k8s_cj["securityContext"], k8s_dep["securityContext"])
        self.assertEqual(k8s_cj["containers"][0]["securityContext"], k8s_dep["containers"][0]["securityContext"])
        self.assertEqual(k8s_cj["containers"][0]["image"], k8s_dep["containers"][0]["image"])
        cj_env = {e["name"]: e.get("value") for e in k8s_cj["containers"][0]["env"]}
        dep_env = {e["name"]: e.get("value") for e in k8s_dep["containers"][0]["env"]}
        self.assertEqual({k: dep_env[k] for k in cj_env}, cj_env)

    def test_labels(self):
        dep = dt.find(self.objects, "Deployment")
        selector = {"app.kubernetes.io/name": "ecr-renew", "app.kubernetes.io/component": "controller"}
        self.assertEqual(dep["spec"]["template"]["metadata"]["labels"], selector)
        self.assertEqual(dep["spec"]["selector"]["matchLabels"], selector)
        self.assertEqual(self.tf["locals"]["controller_selector"], selector)
        self.assertEqual(self.tf["locals"]["controller_pod_labels"],
                         "${merge(var.pod_labels, local.labels, local.controller_selector)}")
        for o in self.objects:
            if o["kind"] != "Namespace":
                self.assertEqual(o["metadata"]["labels"].get("app.kubernetes.io/name"), "ecr-renew", o["kind"])

    def test_service(self):
        tf = self.res("kubernetes_service_v1", "metrics")
        svc = dt.find(self.objects, "Service")
        meta = tf["metadata"][0]
        self.assertEqual((meta["name"], self.resolve(meta["namespace"])),
                         (svc["metadata"]["name"], svc["metadata"]["namespace"]))
        self.assertEqual(svc["metadata"]["name"], "ecr-renew-metrics")
        spec = tf["spec"][0]
        self.assertEqual({"type": spec["type"], "selector": self.resolve(spec["selector"]),
                          "publishNotReadyAddresses": spec["publish_not_ready_addresses"],
                          "ports": [{camel(k): self.resolve(v) for k, v in p.items()} for p in spec["port"]]},
                         svc["spec"])
        self.assertEqual(svc["spec"]["ports"], [{"name": "http-metrics", "port": 8080, "targetPort": "http",
                                                 "protocol": "TCP"}])

    def manifest(self, name: str) -> dict[str, Any]:
        return self.resolve(self.res("kubernetes_manifest", name)["manifest"])

    def test_service_monitor(self):
        tf = self.manifest("service_monitor")
        sm = dt.find(self.objects, "ServiceMonitor")
        for key in ("apiVersion", "kind", "spec"):
            self.assertEqual(tf[key], sm[key], key)
        for key in ("name", "namespace"):
            self.assertEqual(tf["metadata"][key], sm["metadata"][key], key)
        self.assertEqual(self.tf["locals"]["monitoring_labels"], "${merge(var.monitoring_labels, local.labels)}")

    def test_prometheus_rule_to_the_letter(self):
        tf = self.manifest("prometheus_rule")
        pr = dt.find(self.objects, "PrometheusRule")
        for key in ("apiVersion", "kind"):
            self.assertEqual(tf[key], pr[key], key)
        for key in ("name", "namespace"):
            self.assertEqual(tf["metadata"][key], pr["metadata"][key], key)
        self.assertEqual(len(tf["spec"]["groups"]), len(pr["spec"]["groups"]))
        for tf_group, group in zip(tf["spec"]["groups"], pr["spec"]["groups"]):
            self.assertEqual(tf_group["name"], group["name"])
            self.assertEqual([r["alert"] for r in tf_group["rules"]], [r["alert"] for r in group["rules"]])
            for tf_rule, rule in zip(tf_group["rules"], group["rules"]):
                with self.subTest(alert=rule["alert"]):
                    self.assertEqual(tf_rule, rule)
        self.assertEqual(tf["spec"], pr["spec"])



# The module's required variables, for terraform console.
REQUIRED = {"role_arn": "arn:aws:iam::123456789012:role/eks-ecr-token-renew-prod", "aws_region": "eu-west-1",
            "image_repository": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ecr-renew"}
OPTION_LOCALS = ("controller_extra_rules", "sync_account_rules", "sync_account_env")
UNRESTRICTED_SA_CONTROLLER = {("serviceaccounts", (), ("get", "list", "patch", "watch"))}
UNRESTRICTED_SA_SYNC = {("serviceaccounts", (), ("get", "list", "patch"))}


def k8s_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A rule of the locals as the provider sends it (empty resource_names:
    left out, every name)."""
    out = {"apiGroups": rule["api_groups"], "resources": rule["resources"], "verbs": rule["verbs"]}
    if rule["resource_names"]:
        out["resourceNames"] = rule["resource_names"]
    return out


class OptionRules(unittest.TestCase):
    """What service_accounts, annotated_service_accounts and heal_pods add
    to the RBAC and to sync's environment: the module's locals
    (variables.tf and locals.tf, copied alone) evaluated by `terraform
    console`, which needs no provider, for each combination; then the same
    against the manifests with components/service-accounts and
    components/heal-pods, and nothing of it with the options off."""

    ws = None

    @classmethod
    def setUpClass(cls):
        cls.cache: dict[str, dict[str, Any]] = {}
        if not dt.terraform():
            return
        cls.ws = dt.TerraformWorkspace()
        cls.dir = os.path.join(cls.ws.tmp, "locals-only")
        os.makedirs(cls.dir)
        for name in ("variables.tf", "locals.tf"):
            shutil.copy(os.path.join(K8S_MODULE, name), cls.dir)
        cls.init = cls.ws.run(cls.dir, "init", "-input=false", "-no-color", "-backend=false")

    @classmethod
    def tearDownClass(cls):
        if cls.ws:
            cls.ws.cleanup()

    def setUp(self):
        dt.require_terraform(self)
        self.assertEqual(self.init.returncode, 0, dt.tf_output(self.init))

    def evaluate(self, expr: str | None = None, **values: Any) -> Any:
        """The option locals at these variable values (or one expression)."""
        key = json.dumps([expr, values], sort_keys=True)
        if key not in self.cache:
            path = os.path.join(self.dir, f"v{len(self.cache)}.tfvars.json")
            with open(path, "w", encoding="utf-8") as fh:
                json.dump(dict(REQUIRED, **values), fh)
            expr = expr or "{" + ", ".join(f"{n} = local.{n}" for n in OPTION_LOCALS) + "}"
            proc = subprocess.run([dt.terraform(), "console", f"-var-file={path}"], cwd=self.dir,
                                  env=self.ws.env(), input=f"jsonencode({expr})\n", capture_output=True,
                                  text=True, timeout=120)
            self.assertEqual(proc.returncode, 0, dt.tf_output(proc))
            self.cache[key] = json.loads(json.loads(proc.stdout.strip().splitlines()[-1]))
        return self.cache[key]

    def table(self, which: str, **values: Any) -> set[tuple]:
        return rbac_table([k8s_rule(r) for r in self.evaluate(**values)[which]])

    # -- terraform alone ------------------------------------------------------

    def test_nothing_extra_with_the_options_off(self):
        self.assertEqual(self.evaluate(), {n: ({} if n == "sync_account_env" else []) for n in OPTION_LOCALS})
        self.assertEqual(self.evaluate(heal_rate=60, controller_replicas=3),
                         {n: ({} if n == "sync_account_env" else []) for n in OPTION_LOCALS})

    def test_the_one_off_jobs_name_is_unchanged_without_the_options(self):
        # An installation that sets none of the new variables keeps its Job
        # (a new name would replace it and run it again).
        old = ('"ecr-secret-initial-${substr(sha256(jsonencode({image = local.image, namespaces = local.namespaces, '
               'secret_name = var.ecr_secret_name, regions = local.regions, registry_ids = var.ecr_registry_ids, '
               'role_arn = var.role_arn})), 0, 8)}"')
        same = f"local.initial_job_name == {old}"
        self.assertIs(self.evaluate(same), True)
        self.assertIs(self.evaluate(same, heal_pods=True, controller_replicas=1), True)
        # What sync writes changes with them: the Job runs again.
        self.assertIs(self.evaluate(same, service_accounts=["default"]), False)
        self.assertIs(self.evaluate(same, annotated_service_accounts=True), False)

    def test_controller_rules_per_option(self):
        sa_default = SA_DEFAULT_CONTROLLER_RBAC
        for values, want in (
                ({}, set()),
                ({"service_accounts": ["default"]}, sa_default),
                ({"service_accounts": ["builder.v2"]}, {("serviceaccounts", ("builder.v2",),
                                                        ("get", "list", "patch", "watch"))}),
                # Several names, "*" or the annotation: the controller lists
                # and watches every account, so no resourceNames.
                ({"service_accounts": ["default", "builder"]}, UNRESTRICTED_SA_CONTROLLER),
                ({"service_accounts": ["*"]}, UNRESTRICTED_SA_CONTROLLER),
                ({"service_accounts": ["default", "*"]}, UNRESTRICTED_SA_CONTROLLER),
                ({"annotated_service_accounts": True}, UNRESTRICTED_SA_CONTROLLER),
                ({"service_accounts": ["default"], "annotated_service_accounts": True}, UNRESTRICTED_SA_CONTROLLER),
                ({"heal_pods": True}, HEAL_RBAC),
                ({"heal_pods": True, "heal_rate": 600}, HEAL_RBAC),
                ({"heal_pods": True, "service_accounts": ["default"]}, HEAL_RBAC | sa_default)):
            with self.subTest(**values):
                self.assertEqual(self.table("controller_extra_rules", **values), want)
                for rule in self.evaluate(**values)["controller_extra_rules"]:
                    self.assertEqual(rule["api_groups"], [""])
                    self.assertFalse(set(rule["verbs"]) & {"create", "update", "deletecollection", "*"}, rule)

    def test_sync_rules_and_env_per_option(self):
        for values, want, env in (
                ({}, set(), {}),
                ({"heal_pods": True}, set(), {}),
                ({"service_accounts": ["default"]}, SA_DEFAULT_SYNC_RBAC, {"ECR_RENEW_SERVICE_ACCOUNTS": "default"}),
                # sync patches by name, so several names stay by name.
                ({"service_accounts": ["default", "builder", "default"]},
                 {("serviceaccounts", ("builder", "default"), ("get", "patch"))},
                 {"ECR_RENEW_SERVICE_ACCOUNTS": "default,builder,default"}),
                ({"service_accounts": ["*"]}, UNRESTRICTED_SA_SYNC, {"ECR_RENEW_SERVICE_ACCOUNTS": "*"}),
                ({"annotated_service_accounts": True}, UNRESTRICTED_SA_SYNC,
                 {"ECR_RENEW_ANNOTATED_SERVICE_ACCOUNTS": "true"}),
                ({"service_accounts": ["default"], "annotated_service_accounts": True}, UNRESTRICTED_SA_SYNC,
                 {"ECR_RENEW_SERVICE_ACCOUNTS": "default", "ECR_RENEW_ANNOTATED_SERVICE_ACCOUNTS": "true"})):
            with self.subTest(**values):
                self.assertEqual(self.table("sync_account_rules", **values), want)
                self.assertEqual(self.evaluate(**values)["sync_account_env"], env)

    # -- against the manifests' optional components -----------------------------

    def base_rules(self, rtype: str, name: str) -> list[dict[str, Any]]:
        dt.require_node_modules(self)
        module = dt.hcl_module(K8S_MODULE)
        return tf_rules(module["resource"][rtype][name], TfResolver(module))

    def render(self, **kw) -> list[dict[str, Any]]:
        dt.require_kubectl(self)
        if not dt.python_module_available("yaml"):
            self.skipTest("PyYAML is missing (needed to read the rendered manifests)")
        with dt.irsa_overlay_with_controller(**kw) as overlay:
            return dt.kustomize(overlay)

    def env_of(self, obj: dict[str, Any]) -> dict[str, Any]:
        spec = obj["spec"]["jobTemplate"]["spec"] if obj["kind"] == "CronJob" else obj["spec"]
        return {e["name"]: k8s_env_value(e) for e in spec["template"]["spec"]["containers"][0]["env"]}

    def test_controller_components_match_the_variables(self):
        base = self.base_rules("kubernetes_cluster_role_v1", "controller")
        module = dt.hcl_module(K8S_MODULE)
        (c,) = block(module["resource"]["kubernetes_deployment_v1"]["controller"], "spec", "template",
                     "spec")["container"]
        for components, values in (({}, {}),
                                   ({"service_accounts": True}, {"service_accounts": ["default"]}),
                                   ({"heal_pods": True}, {"heal_pods": True}),
                                   ({"service_accounts": True, "heal_pods": True},
                                    {"service_accounts": ["default"], "heal_pods": True})):
            with self.subTest(components=sorted(components)):
                objects = self.render(monitoring=False, **components)
                role = dt.find(objects, "ClusterRole", "ecr-renew-controller")
                tf = base + [k8s_rule(r) for r in self.evaluate(**values)["controller_extra_rules"]]
                self.assertEqual(canonical(tf), canonical(role["rules"]))
                self.assertEqual(rbac_table(role["rules"]) - CONTROLLER_RBAC,
                                 (SA_DEFAULT_CONTROLLER_RBAC if "service_accounts" in components else set())
                                 | (HEAL_RBAC if "heal_pods" in components else set()))
                # The same environment as the module's at those values.
                resolve = TfResolver(module, **values)
                tf_env = {e["name"]: tf_env_value(e, resolve) for e in c["env"]}
                env = self.env_of(dt.find(objects, "Deployment"))
                self.assertEqual(sorted(env), sorted(tf_env))
                for name in ("ECR_RENEW_SERVICE_ACCOUNTS", "ECR_RENEW_ANNOTATED_SERVICE_ACCOUNTS",
                             "ECR_RENEW_HEAL_PODS", "ECR_RENEW_HEAL_RATE", "ECR_RENEW_LEADER_ELECT"):
                    self.assertEqual(env[name], tf_env[name], name)
                # Nothing else changes: the other objects are the plain controller's.
                plain = self.render(monitoring=False)
                self.assertEqual(sorted((o["kind"], o["metadata"]["name"]) for o in objects),
                                 sorted((o["kind"], o["metadata"]["name"]) for o in plain))
                for a, b in zip(sorted(objects, key=lambda o: (o["kind"], o["metadata"]["name"])),
                                sorted(plain, key=lambda o: (o["kind"], o["metadata"]["name"]))):
                    if a["kind"] not in ("ClusterRole", "Deployment"):
                        self.assertEqual(a, b, a["kind"])

    def test_cronjob_component_matches_the_variables(self):
        # components/service-accounts in mode cronjob: sync's Role, the
        # CronJob and the one-off Job, as the module's at ["default"].
        dt.require_kubectl(self)
        base = self.base_rules("kubernetes_role_v1", "secrets")
        with dt.irsa_overlay_with_initial_job(service_accounts=True) as overlay:
            objects = dt.kustomize(overlay)
        with dt.irsa_overlay_with_initial_job() as overlay:
            plain = dt.kustomize(overlay)
        values = {"service_accounts": ["default"]}
        role = dt.find(objects, "Role", "ecr-renew-role")
        tf = base + [k8s_rule(r) for r in self.evaluate(**values)["sync_account_rules"]]
        self.assertEqual(canonical(tf), canonical(role["rules"]))
        self.assertEqual(rbac_table(role["rules"]) - rbac_table(dt.find(plain, "Role")["rules"]),
                         SA_DEFAULT_SYNC_RBAC)
        want_env = self.evaluate(**values)["sync_account_env"]
        for kind in ("CronJob", "Job"):
            with self.subTest(kind=kind):
                env, plain_env = self.env_of(dt.find(objects, kind)), self.env_of(dt.find(plain, kind))
                self.assertEqual({k: v for k, v in env.items() if k not in plain_env}, want_env)
                self.assertEqual({k: env[k] for k in plain_env}, plain_env)
        self.assertEqual(dt.find(objects, "Job")["spec"]["template"],
                         dt.find(objects, "CronJob")["spec"]["jobTemplate"]["spec"]["template"])
        self.assertEqual(sorted(o["kind"] for o in objects), sorted(o["kind"] for o in plain))
        self.assertFalse([o for o in objects if o["kind"].startswith("Cluster")])

    def test_heal_pods_component_changes_nothing_without_the_controller(self):
        # Mode cronjob has nothing to heal with; the component's patches find
        # no target and the rendering stays the same.
        dt.require_kubectl(self)
        with dt.irsa_overlay_with_initial_job() as overlay:
            plain = dt.kustomize(overlay)
            path = os.path.join(overlay, "kustomization.yaml")
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
            self.assertIn("  - ../../components/initial-job\n", text)
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text.replace("  - ../../components/initial-job\n",
                                      "  - ../../components/initial-job\n  - ../../components/heal-pods\n", 1))
            healed = dt.kustomize(overlay)
        self.assertEqual(healed, plain)
        # A control: after the controller the same component does change it.
        self.assertNotEqual(self.render(monitoring=False, heal_pods=True), self.render(monitoring=False))


if __name__ == "__main__":
    unittest.main()

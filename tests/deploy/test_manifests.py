"""The Kubernetes manifests in deploy/kubernetes: they render with
`kubectl kustomize`, pass the API's JSON schemas (npm kubernetes-models), and
the real kubectl applies them to the Kubernetes API stand-in
(tests/fakes/kube), which then enforces the Role they declare.

The same for the controller (components/controller, with service-monitor
and prometheus-rule): its objects render and fit together (probes, ports,
Service, ServiceMonitor), pass the schemas (the Prometheus operator's kinds
by hand), are applied with kubectl and enforce exactly the ClusterRole's
rights; the alert rules pass `promtool check rules` and fire as documented
under `promtool test rules`. No test runs `ecr-renew run`.

    python3 -m unittest tests/deploy/test_manifests.py -v
"""

from __future__ import annotations

import base64
import copy
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import deploytest as dt  # noqa: E402

BASE = os.path.join(dt.KUBE_ROOT, "base")
ECR_RENEW = os.environ.get("ECR_RENEW_BIN", os.path.join(dt.REPO, "build", "ecr-renew"))
SA_USER = "system:serviceaccount:kube-system:ecr-renew-sa"
MANIFEST_OBJECTS = [
    ("namespace", "runtime", None),
    ("serviceaccount", "ecr-renew-sa", "kube-system"),
    ("role.rbac.authorization.k8s.io", "ecr-renew-role", "runtime"),
    ("rolebinding.rbac.authorization.k8s.io", "ecr-renew-rolebinding", "runtime"),
    ("cronjob.batch", "ecr-secret-renewal", "kube-system"),
    ("job.batch", "ecr-secret-initial", "kube-system"),
]


CONTROLLER_OBJECTS = [
    ("namespace", "runtime", None),
    ("serviceaccount", "ecr-renew-sa", "kube-system"),
    ("clusterrole.rbac.authorization.k8s.io", "ecr-renew-controller", None),
    ("clusterrolebinding.rbac.authorization.k8s.io", "ecr-renew-controller", None),
    ("deployment.apps", "ecr-renew", "kube-system"),
    ("service", "ecr-renew-metrics", "kube-system"),
]
CONTROLLER_SELECTOR = {"app.kubernetes.io/name": "ecr-renew", "app.kubernetes.io/component": "controller"}
DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")


def run_hours(hour_field: str) -> list[int]:
    """Hours of the day a cron hour field fires (the forms the module accepts)."""
    if hour_field == "*":
        return list(range(24))
    if hour_field.startswith("*/"):
        return list(range(0, 24, int(hour_field[2:])))
    return sorted({int(h) for h in hour_field.split(",")})


def gaps(hours: list[int]) -> list[int]:
    return [((hours[(i + 1) % len(hours)] - h - 1) % 24) + 1 for i, h in enumerate(hours)]


def container(obj: dict) -> dict:
    spec = obj["spec"]["jobTemplate"]["spec"] if obj["kind"] == "CronJob" else obj["spec"]
    (c,) = spec["template"]["spec"]["containers"]
    return c


def controller_objects(**kw) -> list[dict]:
    with dt.irsa_overlay_with_controller(**kw) as overlay:
        return dt.kustomize(overlay)


def rule_groups() -> list[dict]:
    return dt.find(controller_objects(), "PrometheusRule")["spec"]["groups"]


class Render(unittest.TestCase):
    def setUp(self):
        dt.require_kubectl(self)
        if not dt.python_module_available("yaml"):
            self.skipTest("PyYAML is missing (needed to read the rendered manifests)")

    def test_base_renders_the_objects(self):
        objects = dt.kustomize(BASE)
        self.assertEqual(sorted(o["kind"] for o in objects),
                         sorted(["Namespace", "ServiceAccount", "Role", "RoleBinding", "CronJob"]))
        sa = dt.find(objects, "ServiceAccount")
        self.assertNotIn("annotations", sa["metadata"], "the base must not carry an account-specific role ARN")

    def test_irsa_overlay_renders(self):
        objects = dt.kustomize(dt.IRSA_OVERLAY)
        sa = dt.find(objects, "ServiceAccount", "ecr-renew-sa")
        self.assertRegex(sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
                         r"^arn:aws:iam::\d{12}:role/eks-ecr-token-renew-[A-Za-z0-9_-]+$")
        c = container(dt.find(objects, "CronJob", "ecr-secret-renewal"))
        env = {e["name"]: e.get("value") for e in c["env"]}
        self.assertRegex(env["AWS_REGION"], r"^[a-z]{2}(-[a-z]+)+-\d+$")
        self.assertEqual(env["ECR_RENEW_REGIONS"].split(",")[0], env["AWS_REGION"])
        self.assertNotEqual(c["image"], "ecr-renew", "the overlay must set the image")
        self.assertFalse([o for o in objects if o["kind"] == "Job"], "the one-off Job is opt-in")

    def test_initial_job_component_gets_the_overlay_settings(self):
        with dt.irsa_overlay_with_initial_job() as overlay:
            objects = dt.kustomize(overlay)
        job = dt.find(objects, "Job", "ecr-secret-initial")
        cj = dt.find(objects, "CronJob", "ecr-secret-renewal")
        self.assertEqual(container(job), container(cj))

    def test_schedule_gaps_are_even_and_at_most_10_hours(self):
        cj = dt.find(dt.kustomize(dt.IRSA_OVERLAY), "CronJob")
        minute, hour, dom, month, dow = cj["spec"]["schedule"].split()
        self.assertEqual((dom, month, dow), ("*", "*", "*"))
        g = gaps(run_hours(hour))
        self.assertLessEqual(max(g), 10, g)
        self.assertEqual(len(set(g)), 1, f"uneven gaps {g}")
        self.assertEqual(gaps(run_hours("*/10")), [10, 10, 4])  # why */10 is refused

    def test_concurrency_and_deadlines(self):
        cj = dt.find(dt.kustomize(dt.IRSA_OVERLAY), "CronJob")
        self.assertEqual(cj["spec"]["concurrencyPolicy"], "Forbid")
        self.assertGreaterEqual(cj["spec"]["startingDeadlineSeconds"], 10)
        self.assertEqual((cj["spec"]["successfulJobsHistoryLimit"], cj["spec"]["failedJobsHistoryLimit"]), (3, 3))


    # -- the controller ----------------------------------------------------------

    def test_controller_component_replaces_the_cronjob(self):
        objects = controller_objects(monitoring=False)
        self.assertEqual(sorted(o["kind"] for o in objects),
                         sorted(["Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Deployment",
                                 "Service"]))
        dep = dt.find(objects, "Deployment", "ecr-renew")
        c = container(dep)
        self.assertEqual(c["args"], ["run"])
        self.assertNotEqual(c["image"], "ecr-renew", "the overlay must set the image")
        self.assertEqual(c["image"], container(dt.find(dt.kustomize(dt.IRSA_OVERLAY), "CronJob"))["image"])
        env = {e["name"]: e.get("value") for e in c["env"]}
        self.assertRegex(env["AWS_REGION"], r"^[a-z]{2}(-[a-z]+)+-\d+$")
        self.assertEqual(env["ECR_RENEW_REGIONS"].split(",")[0], env["AWS_REGION"])
        sa = dt.find(objects, "ServiceAccount")
        self.assertIn("eks.amazonaws.com/role-arn", sa["metadata"]["annotations"])

    def test_controller_component_drops_the_initial_job(self):
        kinds = sorted(o["kind"] for o in controller_objects(initial_job=True))
        self.assertNotIn("Job", kinds)
        self.assertNotIn("CronJob", kinds)
        self.assertEqual(kinds, sorted(o["kind"] for o in controller_objects()))

    def test_monitoring_components_are_optional(self):
        with_monitoring = {o["kind"] for o in controller_objects()}
        without = {o["kind"] for o in controller_objects(monitoring=False)}
        self.assertEqual(with_monitoring - without, dt.MONITORING_KINDS)

    def test_controller_deployment_is_hardened_and_sized(self):
        dep = dt.find(controller_objects(), "Deployment")
        self.assertEqual(dep["spec"]["replicas"], 1)
        self.assertEqual(dep["spec"]["strategy"], {"type": "RollingUpdate",
                                                   "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}})
        pod = dep["spec"]["template"]["spec"]
        self.assertEqual(pod["serviceAccountName"], "ecr-renew-sa")
        self.assertIs(pod["automountServiceAccountToken"], True)
        self.assertIs(pod["enableServiceLinks"], False)
        self.assertGreater(pod["terminationGracePeriodSeconds"], 2)
        self.assertLessEqual(pod["terminationGracePeriodSeconds"], 30)
        self.assertEqual(pod["securityContext"], {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532,
                                                  "fsGroup": 65532, "seccompProfile": {"type": "RuntimeDefault"}})
        c = container(dep)
        self.assertEqual(c["securityContext"], {
            "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True,
            "runAsUser": 65532, "runAsGroup": 65532, "capabilities": {"drop": ["ALL"]}})
        self.assertEqual(c["resources"], {"requests": {"cpu": "10m", "memory": "32Mi"},
                                          "limits": {"cpu": "200m", "memory": "64Mi"}})
        self.assertNotIn("volumeMounts", c, "a read-only root filesystem and nothing to write")

    def test_controller_probes_ports_and_service_fit_together(self):
        objects = controller_objects()
        dep = dt.find(objects, "Deployment")
        c = container(dep)
        (port,) = c["ports"]
        self.assertEqual(port, {"name": "http", "containerPort": 8080, "protocol": "TCP"})
        env = {e["name"]: e.get("value") for e in c["env"]}
        self.assertEqual(env["ECR_RENEW_LISTEN"], f":{port['containerPort']}")
        self.assertEqual(c["livenessProbe"]["httpGet"], {"path": "/healthz", "port": "http"})
        self.assertEqual(c["readinessProbe"]["httpGet"], {"path": "/readyz", "port": "http"})
        for probe in (c["livenessProbe"], c["readinessProbe"]):
            self.assertGreaterEqual(probe["timeoutSeconds"], 2)
            self.assertGreaterEqual(probe["failureThreshold"], 3)
        labels = dep["spec"]["template"]["metadata"]["labels"]
        self.assertEqual(dep["spec"]["selector"]["matchLabels"], CONTROLLER_SELECTOR)
        self.assertEqual(labels, CONTROLLER_SELECTOR)
        svc = dt.find(objects, "Service", "ecr-renew-metrics")
        self.assertEqual(svc["metadata"]["namespace"], dep["metadata"]["namespace"])
        self.assertEqual(svc["spec"]["selector"], CONTROLLER_SELECTOR)
        self.assertIs(svc["spec"]["publishNotReadyAddresses"], True)
        (svc_port,) = svc["spec"]["ports"]
        self.assertEqual(svc_port, {"name": "http-metrics", "port": 8080, "targetPort": "http", "protocol": "TCP"})
        # The CronJob's pods (component renewal) never match the Service.
        cj = dt.find(dt.kustomize(dt.IRSA_OVERLAY), "CronJob")
        cj_labels = cj["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
        self.assertFalse(set(svc["spec"]["selector"].items()) <= set(cj_labels.items()))
        sm = dt.find(objects, "ServiceMonitor", "ecr-renew")
        self.assertLessEqual(set(sm["spec"]["selector"]["matchLabels"].items()), set(svc["metadata"]["labels"].items()))
        self.assertEqual(sm["spec"]["namespaceSelector"], {"matchNames": [svc["metadata"]["namespace"]]})
        self.assertEqual([(e["port"], e["path"]) for e in sm["spec"]["endpoints"]], [("http-metrics", "/metrics")])

    def test_controller_rbac_is_exactly_the_minimal_set(self):
        objects = controller_objects()
        role = dt.find(objects, "ClusterRole", "ecr-renew-controller")
        table = sorted((tuple(r["apiGroups"]), tuple(r["resources"]), tuple(r.get("resourceNames", ())),
                        tuple(sorted(r["verbs"]))) for r in role["rules"])
        self.assertEqual(table, sorted([
            (("",), ("namespaces",), (), ("list", "watch")),
            (("",), ("secrets",), (), ("create",)),
            (("",), ("secrets",), ("ecr-registry-secret",), ("get", "list", "patch", "update", "watch")),
        ]))
        secret_name = {e["name"]: e.get("value") for e in container(dt.find(objects, "Deployment"))["env"]}[
            "ECR_RENEW_SECRET_NAME"]
        self.assertEqual(secret_name, "ecr-registry-secret")
        crb = dt.find(objects, "ClusterRoleBinding", "ecr-renew-controller")
        self.assertEqual(crb["roleRef"], {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                          "name": "ecr-renew-controller"})
        self.assertEqual(crb["subjects"], [{"kind": "ServiceAccount", "name": "ecr-renew-sa",
                                            "namespace": "kube-system"}])
        self.assertFalse([o for o in objects if o["kind"] in ("Role", "RoleBinding")])


class SchemaValidation(unittest.TestCase):
    """JSON-schema validation with kubernetes-models (API types of Kubernetes
    1.3x). It checks types, enums and required fields; it does not flag
    unknown fields (test_drift.py compares the fields that matter)."""

    def setUp(self):
        dt.require_kubectl(self)
        if not dt.python_module_available("yaml"):
            self.skipTest("PyYAML is missing (needed to read the rendered manifests)")
        dt.require_node_modules(self)

    def assert_valid(self, objects: list[dict]) -> None:
        results = dt.validate_with_kubernetes_models(objects)
        self.assertEqual(len(results), len(objects))
        bad = [r for r in results if not r["ok"]]
        self.assertFalse(bad, json.dumps(bad, indent=1))

    def test_base_is_schema_valid(self):
        self.assert_valid(dt.kustomize(BASE))

    def test_irsa_overlay_with_initial_job_is_schema_valid(self):
        with dt.irsa_overlay_with_initial_job() as overlay:
            objects = dt.kustomize(overlay)
        self.assertEqual(len(objects), 6)
        self.assert_valid(objects)

    def test_validator_catches_broken_objects(self):
        # A control: the same objects with type errors must be refused, so a
        # pass above means something.
        objects = dt.kustomize(dt.IRSA_OVERLAY)
        broken = copy.deepcopy(objects)
        cj = dt.find(broken, "CronJob")
        cj["spec"]["schedule"] = 8
        container(cj)["securityContext"]["runAsUser"] = "65532"
        dt.find(broken, "Role")["rules"][0]["verbs"] = "create"
        del dt.find(broken, "RoleBinding")["roleRef"]["kind"]
        results = {r["kind"]: r for r in dt.validate_with_kubernetes_models(broken)}
        for kind, fragment in (("CronJob", "schedule"), ("CronJob", "runAsUser"), ("Role", "verbs"),
                               ("RoleBinding", "kind")):
            with self.subTest(kind=kind, field=fragment):
                self.assertFalse(results[kind]["ok"])
                self.assertIn(fragment, " ".join(results[kind]["errors"]))
        self.assertTrue(results["ServiceAccount"]["ok"])


    def test_controller_overlay_is_schema_valid(self):
        objects = [o for o in controller_objects() if o["kind"] not in dt.MONITORING_KINDS]
        self.assertEqual(sorted(o["kind"] for o in objects),
                         sorted(["Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Deployment",
                                 "Service"]))
        self.assert_valid(objects)

    def test_validator_catches_broken_controller_objects(self):
        broken = [o for o in controller_objects() if o["kind"] not in dt.MONITORING_KINDS]
        dep = dt.find(broken, "Deployment")
        container(dep)["ports"][0]["containerPort"] = "8080"
        container(dep)["readinessProbe"]["periodSeconds"] = "5"
        dt.find(broken, "Service")["spec"]["ports"][0]["port"] = "8080"
        dt.find(broken, "ClusterRole")["rules"][0]["resources"] = "namespaces"
        results = {r["kind"]: r for r in dt.validate_with_kubernetes_models(broken)}
        for kind, fragment in (("Deployment", "containerPort"), ("Deployment", "periodSeconds"),
                               ("Service", "port"), ("ClusterRole", "resources")):
            with self.subTest(kind=kind, field=fragment):
                self.assertFalse(results[kind]["ok"])
                self.assertIn(fragment, " ".join(results[kind]["errors"]))
        self.assertTrue(results["ClusterRoleBinding"]["ok"])

    def test_monitoring_objects_have_the_operators_structure(self):
        # kubernetes-models has no monitoring.coreos.com/v1 schemas: the
        # fields the Prometheus operator requires, checked by hand.
        objects = controller_objects()
        sm = dt.find(objects, "ServiceMonitor")
        self.assertEqual(sm["apiVersion"], "monitoring.coreos.com/v1")
        self.assertEqual(set(sm["spec"]), {"selector", "namespaceSelector", "endpoints"})
        self.assertIsInstance(sm["spec"]["selector"]["matchLabels"], dict)
        self.assertIsInstance(sm["spec"]["namespaceSelector"]["matchNames"], list)
        for ep in sm["spec"]["endpoints"]:
            self.assertLessEqual(set(ep), {"port", "path", "interval", "scrapeTimeout", "scheme"})
            self.assertIsInstance(ep["port"], str)
            self.assertRegex(ep["interval"], DURATION)
        pr = dt.find(objects, "PrometheusRule")
        self.assertEqual(pr["apiVersion"], "monitoring.coreos.com/v1")
        self.assertEqual(set(pr["spec"]), {"groups"})
        names = [g["name"] for g in pr["spec"]["groups"]]
        self.assertEqual(len(names), len(set(names)))
        for group in pr["spec"]["groups"]:
            self.assertLessEqual(set(group), {"name", "interval", "rules"})
            for rule in group["rules"]:
                with self.subTest(alert=rule.get("alert")):
                    self.assertEqual(set(rule), {"alert", "expr", "for", "labels", "annotations"})
                    self.assertRegex(rule["alert"], r"^EcrRenew[A-Z][A-Za-z]+$")
                    self.assertIsInstance(rule["expr"], str)
                    self.assertRegex(rule["for"], DURATION)
                    self.assertIn(rule["labels"].get("severity"), ("critical", "warning"))
                    self.assertEqual(set(rule["annotations"]), {"summary", "description"})
                    for text in rule["annotations"].values():
                        self.assertIsInstance(text, str)
                        self.assertNotIn("\n", text)


class PrometheusRules(unittest.TestCase):
    """The PrometheusRule's spec.groups through the real promtool (Debian
    package prometheus): `check rules` parses every expression and template,
    `test rules` evaluates the alerts on made-up series (annotations left
    out: those are checked by `check rules`)."""

    def setUp(self):
        dt.require_kubectl(self)
        if not dt.python_module_available("yaml"):
            self.skipTest("PyYAML is missing (needed to read the rendered manifests)")
        self.promtool = dt.require_promtool(self)
        self.tmp = tempfile.mkdtemp(prefix="ecr-renew-promtool-")
        self.addCleanup(__import__("shutil").rmtree, self.tmp, True)

    def write(self, name: str, doc: dict) -> str:
        import yaml

        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as fh:
            yaml.safe_dump(doc, fh, sort_keys=False)
        return path

    def promtool_run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([self.promtool, *args], capture_output=True, text=True, timeout=120, cwd=self.tmp,
                              stdin=subprocess.DEVNULL)

    def test_promtool_check_rules(self):
        groups = rule_groups()
        path = self.write("rules.yaml", {"groups": groups})
        proc = self.promtool_run("check", "rules", "--lint=all", "--lint-fatal", path)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        count = sum(len(g["rules"]) for g in groups)
        self.assertIn(f"SUCCESS: {count} rules found", proc.stdout)

    def test_promtool_check_rules_is_a_real_check(self):
        # A control: a broken expression and a broken template are refused.
        for what, edit in (("expr", lambda r: r.update(expr=r["expr"] + " +")),
                           ("template", lambda r: r["annotations"].update(summary="{{ $value | nope }}"))):
            with self.subTest(broken=what):
                groups = copy.deepcopy(rule_groups())
                edit(groups[0]["rules"][0])
                proc = self.promtool_run("check", "rules", self.write(f"bad-{what}.yaml", {"groups": groups}))
                self.assertNotEqual(proc.returncode, 0, proc.stdout)

    def test_rules_use_the_controllers_metrics(self):
        used = set()
        for group in rule_groups():
            for rule in group["rules"]:
                used |= set(re.findall(r"\b(ecr_renew_[a-z_]+)\b", rule["expr"]))
        self.assertLessEqual(used, set(dt.CONTROLLER_METRICS))
        self.assertGreaterEqual(used, {"ecr_renew_token_expiry_timestamp_seconds", "ecr_renew_secret_errors_total",
                                       "ecr_renew_aws_errors_total", "ecr_renew_last_success_timestamp_seconds"})

    def test_alerts_fire_as_documented(self):
        groups = copy.deepcopy(rule_groups())
        for group in groups:
            for rule in group["rules"]:
                rule.pop("annotations")
        self.write("rules.yaml", {"groups": groups})
        registry = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
        up = 'up{job="ecr-renew-metrics",namespace="kube-system"}'
        tests = {"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": [
            {"name": "a controller in trouble", "interval": "1m", "input_series": [
                # One token 90 minutes from expiry, one fresh (12 hours).
                {"series": f'ecr_renew_token_expiry_timestamp_seconds{{region="eu-west-1",registry="{registry}"}}',
                 "values": "5400x60"},
                {"series": 'ecr_renew_token_expiry_timestamp_seconds{region="us-east-1",registry="x"}',
                 "values": "43200x60"},
                {"series": "ecr_renew_last_success_timestamp_seconds", "values": "0+60x60"},
                # Forbidden on every retry; one Conflict (a rollout's overlap).
                {"series": 'ecr_renew_secret_errors_total{reason="Forbidden"}', "values": "0+1x60"},
                {"series": 'ecr_renew_secret_errors_total{reason="Conflict"}', "values": "0 0 0 1x57"},
                {"series": 'ecr_renew_aws_errors_total{operation="GetAuthorizationToken",code="AccessDenied"}',
                 "values": "0+2x60"},
                {"series": 'ecr_renew_aws_errors_total{operation="AssumeRoleWithWebIdentity",code="Throttling"}',
                 "values": "0 1x59"},
                {"series": 'ecr_renew_namespaces{state="failed"}', "values": "2x60"},
                {"series": 'ecr_renew_namespaces{state="synced"}', "values": "40x60"},
                {"series": up, "values": "1x10 0x50"},
            ], "alert_rule_test": [
                {"eval_time": "3m", "alertname": "EcrRenewTokenExpiringSoon", "exp_alerts": []},
                {"eval_time": "10m", "alertname": "EcrRenewTokenExpiringSoon", "exp_alerts": [
                    {"exp_labels": {"severity": "critical", "region": "eu-west-1", "registry": registry}}]},
                {"eval_time": "30m", "alertname": "EcrRenewNoRecentSuccess", "exp_alerts": []},
                {"eval_time": "20m", "alertname": "EcrRenewSecretErrors", "exp_alerts": []},
                {"eval_time": "45m", "alertname": "EcrRenewSecretErrors", "exp_alerts": [
                    {"exp_labels": {"severity": "warning", "reason": "Forbidden"}}]},
                {"eval_time": "45m", "alertname": "EcrRenewAwsErrors", "exp_alerts": [
                    {"exp_labels": {"severity": "warning", "operation": "GetAuthorizationToken",
                                    "code": "AccessDenied"}}]},
                {"eval_time": "10m", "alertname": "EcrRenewNamespacesFailing", "exp_alerts": []},
                {"eval_time": "20m", "alertname": "EcrRenewNamespacesFailing", "exp_alerts": [
                    {"exp_labels": {"severity": "warning", "state": "failed"}}]},
                {"eval_time": "20m", "alertname": "EcrRenewDown", "exp_alerts": []},
                {"eval_time": "30m", "alertname": "EcrRenewDown", "exp_alerts": [
                    {"exp_labels": {"severity": "critical"}}]},
            ]},
            {"name": "no success for 9 hours, and no target at all", "interval": "1m", "input_series": [
                {"series": "ecr_renew_last_success_timestamp_seconds", "values": "0x600"},
            ], "alert_rule_test": [
                {"eval_time": "9h", "alertname": "EcrRenewNoRecentSuccess", "exp_alerts": []},
                {"eval_time": "9h20m", "alertname": "EcrRenewNoRecentSuccess", "exp_alerts": [
                    {"exp_labels": {"severity": "warning"}}]},
                {"eval_time": "10m", "alertname": "EcrRenewDown", "exp_alerts": []},
                {"eval_time": "20m", "alertname": "EcrRenewDown", "exp_alerts": [
                    {"exp_labels": {"severity": "critical"}}]},
            ]},
            {"name": "a healthy controller", "interval": "1m", "input_series": [
                {"series": f'ecr_renew_token_expiry_timestamp_seconds{{region="eu-west-1",registry="{registry}"}}',
                 "values": "43200x120"},
                {"series": "ecr_renew_last_success_timestamp_seconds", "values": "0+60x120"},
                {"series": 'ecr_renew_secret_errors_total{reason="Forbidden"}', "values": "0x120"},
                {"series": 'ecr_renew_aws_errors_total{operation="GetAuthorizationToken",code="AccessDenied"}',
                 "values": "0x120"},
                {"series": 'ecr_renew_namespaces{state="failed"}', "values": "0x120"},
                {"series": up, "values": "1x120"},
            ], "alert_rule_test": [
                {"eval_time": "2h", "alertname": a, "exp_alerts": []}
                for g in groups for a in (r["alert"] for r in g["rules"])
            ]},
        ]}
        self.write("tests.yaml", tests)
        proc = self.promtool_run("test", "rules", "tests.yaml")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("SUCCESS", proc.stdout)


class ApplyToFakeKube(unittest.TestCase):
    """kubectl apply of the rendered overlay (with the one-off Job) to the
    fake kube-apiserver, as admin. The ecr-renew ServiceAccount has no rights
    of its own there: only the applied Role and RoleBinding give it any."""

    kube = None

    @classmethod
    def setUpClass(cls):
        if not dt.kubectl():
            raise unittest.SkipTest("kubectl is not installed")
        for mod in ("yaml", "cryptography"):
            if not dt.python_module_available(mod):
                raise unittest.SkipTest(f"python module {mod} is missing (the kube fake needs it)")
        h = dt.load_harness("kube")
        config = h.default_config()
        for user in config["users"]:
            if user["name"] == SA_USER:
                user["rules"] = []
        cls.kube = h.FakeKube(config)
        try:
            cls.kube.start()
            with dt.irsa_overlay_with_initial_job() as overlay:
                cls.rendered = dt.kustomize_text(overlay)
            cls.manifest = os.path.join(cls.kube.workdir, "ecr-renew.yaml")
            with open(cls.manifest, "w", encoding="utf-8") as fh:
                fh.write(cls.rendered)
            cls.first_apply = cls.kube.kubectl("apply", "-f", cls.manifest)
            cls.sa_kubeconfig = cls.kube.write_kubeconfig(user=SA_USER)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.kube:
            cls.kube.stop()
            cls.kube = None

    def k(self, *args: str, **kw) -> subprocess.CompletedProcess:
        return self.kube.kubectl(*args, **kw)

    def test_apply_creates_every_object(self):
        proc = self.first_apply
        self.assertEqual(proc.returncode, 0, f"kubectl apply failed:\n{proc.stdout}\n{proc.stderr}")
        for resource, name, _ns in MANIFEST_OBJECTS:
            self.assertIn(f"{resource}/{name} created", proc.stdout)

    def test_kubectl_get_shows_each_object(self):
        for resource, name, ns in MANIFEST_OBJECTS:
            with self.subTest(object=f"{resource}/{name}"):
                args = ["get", resource, name, "-o", "json"] + (["-n", ns] if ns else [])
                proc = self.k(*args)
                self.assertEqual(proc.returncode, 0, proc.stderr)
                obj = json.loads(proc.stdout)
                self.assertEqual(obj["metadata"]["name"], name)
                self.assertIn("uid", obj["metadata"])
                proc = self.k(*(["get", resource, name] + (["-n", ns] if ns else [])))
                self.assertEqual(proc.returncode, 0, proc.stderr)
                self.assertIn(name, proc.stdout)

    def test_stored_objects_keep_what_matters(self):
        sa = json.loads(self.k("get", "sa", "ecr-renew-sa", "-n", "kube-system", "-o", "json", check=True).stdout)
        self.assertIn("eks.amazonaws.com/role-arn", sa["metadata"]["annotations"])
        self.assertIs(sa.get("automountServiceAccountToken"), False)
        cj = json.loads(self.k("get", "cronjob", "ecr-secret-renewal", "-n", "kube-system", "-o", "json",
                               check=True).stdout)
        self.assertEqual(cj["spec"]["schedule"], "0 */8 * * *")
        self.assertEqual(cj["spec"]["concurrencyPolicy"], "Forbid")
        pod = cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        self.assertEqual(pod["securityContext"]["seccompProfile"], {"type": "RuntimeDefault"})
        self.assertEqual(pod["containers"][0]["securityContext"]["capabilities"], {"drop": ["ALL"]})
        proc = self.k("get", "cronjobs", "-n", "kube-system", check=True)
        self.assertRegex(proc.stdout, r"ecr-secret-renewal\s+0 \*/8 \* \* \*")

    def test_second_apply_changes_nothing(self):
        proc = self.k("apply", "-f", self.manifest)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        for resource, name, _ns in MANIFEST_OBJECTS:
            self.assertIn(f"{resource}/{name} unchanged", proc.stdout)

    def test_rbac_gives_the_service_account_exactly_what_sync_needs(self):
        def can(*args: str) -> bool:
            proc = self.k("auth", "can-i", *args, kubeconfig=self.sa_kubeconfig)
            self.assertIn(proc.stdout.strip(), ("yes", "no"), proc.stderr)
            return proc.stdout.strip() == "yes"

        for args in (("get", "secrets/ecr-registry-secret", "-n", "runtime"),
                     ("update", "secrets/ecr-registry-secret", "-n", "runtime"),
                     ("create", "secrets", "-n", "runtime")):
            self.assertTrue(can(*args), f"ecr-renew-sa cannot {' '.join(args)}")
        for args in (("delete", "secrets/ecr-registry-secret", "-n", "runtime"),
                     ("patch", "secrets/ecr-registry-secret", "-n", "runtime"),
                     ("list", "secrets", "-n", "runtime"),
                     ("get", "secrets/some-other-secret", "-n", "runtime"),
                     ("update", "secrets/some-other-secret", "-n", "runtime"),
                     ("get", "secrets/ecr-registry-secret", "-n", "default"),
                     ("create", "secrets", "-n", "default"),
                     ("create", "namespaces")):
            self.assertFalse(can(*args), f"ecr-renew-sa may {' '.join(args)}")

    def run_sync(self) -> subprocess.CompletedProcess:
        """`ecr-renew sync` as the CronJob runs it (its args and environment,
        from the rendered manifest), with the ServiceAccount's token: only the
        applied Role's rights. AWS is the fake, through web identity."""
        if not os.access(ECR_RENEW, os.X_OK):
            self.skipTest(f"{ECR_RENEW} is not built (or set ECR_RENEW_BIN)")
        probe = subprocess.run([ECR_RENEW, "sync", "--help"], capture_output=True, text=True, timeout=30)
        if probe.returncode != 0:
            self.skipTest("this ecr-renew build has no sync command yet")
        for mod in ("moto", "boto3"):
            if not dt.python_module_available(mod):
                self.skipTest(f"python module {mod} is missing (the AWS fake needs it)")
        import yaml

        cronjob = [o for o in yaml.safe_load_all(self.rendered) if o and o["kind"] == "CronJob"][0]
        aws_h = dt.load_harness("aws")
        with aws_h.FakeAws() as aws:
            token_file = aws.write_token_file(sub=SA_USER)
            env = aws.env(web_identity=(aws.role_arn("ecr-renew-irsa"), token_file))
            for e in container(cronjob)["env"]:
                env[e["name"]] = e.get("value", "")
            # The manifests' placeholder region, replaced by the fake's.
            env["AWS_REGION"] = env["ECR_RENEW_REGIONS"] = aws.region
            env["KUBECONFIG"] = self.sa_kubeconfig
            self.kube.clear_requests()
            return subprocess.run([ECR_RENEW, *container(cronjob)["args"]], env=env, capture_output=True,
                                  text=True, timeout=120, stdin=subprocess.DEVNULL)

    def delete_secret(self) -> None:
        self.k("delete", "secret", "ecr-registry-secret", "-n", "runtime", "--ignore-not-found")

    def test_sync_creates_the_first_secret(self):
        """What the one-off Job does on a fresh cluster."""
        self.delete_secret()
        proc = self.run_sync()
        self.assertEqual(proc.returncode, 0, f"ecr-renew sync failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        secret = self.kube.get_object("Secret", "runtime", "ecr-registry-secret")
        self.assertIsNotNone(secret)
        self.assertEqual(secret["type"], "kubernetes.io/dockerconfigjson")
        self.assertEqual(secret["metadata"]["labels"].get("app.kubernetes.io/managed-by"), "ecr-renew")
        for note in ("ecr-renew/expires-at", "ecr-renew/registries", "ecr-renew/renewed-at"):
            self.assertIn(note, secret["metadata"]["annotations"])
        methods = [r["method"] for r in self.kube.requests(path_contains="/secrets")]
        self.assertIn("POST", methods)
        self.assertLessEqual(set(methods), {"GET", "POST"}, methods)

    def test_sync_takes_over_an_old_secret_in_place(self):
        """The migration path: the old module's Secret (kubectl-created
        dockerconfigjson, no ecr-renew label) is updated in place, never
        deleted, with only the manifests' rights."""
        self.delete_secret()
        old_cfg = {"auths": {"123456789012.dkr.ecr.us-east-1.amazonaws.com": {
            "auth": base64.b64encode(b"AWS:old-password").decode()}}}
        old = self.kube.seed({
            "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
            "metadata": {"name": "ecr-registry-secret", "namespace": "runtime"},
            "data": {".dockerconfigjson": base64.b64encode(json.dumps(old_cfg).encode()).decode()}})
        proc = self.run_sync()
        self.assertEqual(proc.returncode, 0, f"ecr-renew sync failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        new = self.kube.get_object("Secret", "runtime", "ecr-registry-secret")
        self.assertEqual(new["metadata"]["uid"], old["metadata"]["uid"], "the Secret was deleted and re-created")
        self.assertEqual(new["metadata"]["labels"].get("app.kubernetes.io/managed-by"), "ecr-renew")
        self.assertIn("ecr-renew/expires-at", new["metadata"]["annotations"])
        self.assertNotEqual(new["data"][".dockerconfigjson"], old["data"][".dockerconfigjson"])
        self.assertFalse(self.kube.requests(method="DELETE"), "sync sent a DELETE")
        methods = [r["method"] for r in self.kube.requests(path_contains="/secrets")]
        self.assertIn("PUT", methods)
        self.assertLessEqual(set(methods), {"GET", "PUT"}, methods)

class ApplyControllerToFakeKube(unittest.TestCase):
    """kubectl apply of the irsa overlay with the controller component to a
    fake kube-apiserver of its own, as admin; then the ServiceAccount, whose
    only rights are the applied ClusterRole's, is checked for exactly the
    controller's rights, with `kubectl auth can-i` and with the list and
    watch requests the controller sends. The Prometheus operator's kinds are
    left out (the stand-in has no CRDs), and so is every kind the stand-in
    does not serve (it reports them through discovery, which kubectl reads)."""

    kube = None

    @classmethod
    def setUpClass(cls):
        if not dt.kubectl():
            raise unittest.SkipTest("kubectl is not installed")
        for mod in ("yaml", "cryptography"):
            if not dt.python_module_available(mod):
                raise unittest.SkipTest(f"python module {mod} is missing (the kube fake needs it)")
        import yaml

        h = dt.load_harness("kube")
        config = h.default_config()
        for user in config["users"]:
            if user["name"] == SA_USER:
                user["rules"] = []
        cls.kube = h.FakeKube(config)
        try:
            cls.kube.start()
            proc = cls.kube.kubectl("api-resources", "--no-headers", check=True)
            cls.served = {(cols[-3], cols[-1]) for cols in (line.split() for line in proc.stdout.splitlines())
                          if len(cols) >= 4}
            objects = controller_objects()
            cls.left_out = sorted(o["kind"] for o in objects if (o["apiVersion"], o["kind"]) not in cls.served)
            cls.applied = [o for o in objects if (o["apiVersion"], o["kind"]) in cls.served]
            cls.manifest = os.path.join(cls.kube.workdir, "ecr-renew-controller.yaml")
            with open(cls.manifest, "w", encoding="utf-8") as fh:
                yaml.safe_dump_all(cls.applied, fh, sort_keys=False)
            cls.first_apply = cls.kube.kubectl("apply", "-f", cls.manifest)
            cls.sa_kubeconfig = cls.kube.write_kubeconfig(user=SA_USER)
            cls.kube.create_namespace("team-a")
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.kube:
            cls.kube.stop()
            cls.kube = None

    def k(self, *args: str, **kw) -> subprocess.CompletedProcess:
        return self.kube.kubectl(*args, **kw)

    def objects_here(self) -> list[tuple]:
        kinds = {o["kind"].lower() for o in self.applied}
        return [o for o in CONTROLLER_OBJECTS if o[0].split(".")[0] in kinds]

    def test_only_the_monitoring_kinds_are_left_out(self):
        self.assertLessEqual(set(self.left_out), dt.MONITORING_KINDS, self.left_out)
        for kind in ("Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Deployment", "Service"):
            self.assertIn(kind, [o["kind"] for o in self.applied])

    def test_apply_creates_every_object(self):
        proc = self.first_apply
        self.assertEqual(proc.returncode, 0, f"kubectl apply failed:\n{proc.stdout}\n{proc.stderr}")
        for resource, name, _ns in self.objects_here():
            self.assertIn(f"{resource}/{name} created", proc.stdout)

    def test_second_apply_changes_nothing(self):
        proc = self.k("apply", "-f", self.manifest)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        for resource, name, _ns in self.objects_here():
            self.assertIn(f"{resource}/{name} unchanged", proc.stdout)

    def get(self, resource: str, name: str, ns: str | None = None) -> dict:
        args = ["get", resource, name, "-o", "json"] + (["-n", ns] if ns else [])
        return json.loads(self.k(*args, check=True).stdout)

    def test_read_back_the_deployment(self):
        dep = self.get("deployment", "ecr-renew", "kube-system")
        self.assertIn("uid", dep["metadata"])
        self.assertEqual(dep["spec"]["replicas"], 1)
        self.assertEqual(dep["spec"]["selector"]["matchLabels"], CONTROLLER_SELECTOR)
        pod = dep["spec"]["template"]["spec"]
        self.assertEqual(pod["serviceAccountName"], "ecr-renew-sa")
        self.assertIs(pod["enableServiceLinks"], False)
        self.assertEqual(pod["securityContext"]["seccompProfile"], {"type": "RuntimeDefault"})
        (c,) = pod["containers"]
        self.assertEqual(c["args"], ["run"])
        self.assertEqual(c["securityContext"]["capabilities"], {"drop": ["ALL"]})
        self.assertIs(c["securityContext"]["readOnlyRootFilesystem"], True)
        self.assertEqual(c["livenessProbe"]["httpGet"]["path"], "/healthz")
        self.assertEqual(c["readinessProbe"]["httpGet"]["path"], "/readyz")
        self.assertEqual(c["ports"][0]["name"], "http")
        proc = self.k("get", "deployments", "-n", "kube-system", check=True)
        self.assertRegex(proc.stdout, r"ecr-renew\s+0/1")

    def test_read_back_the_cluster_role_and_binding(self):
        role = self.get("clusterrole", "ecr-renew-controller")
        self.assertNotIn("namespace", role["metadata"])
        self.assertEqual(len(role["rules"]), 3)
        crb = self.get("clusterrolebinding", "ecr-renew-controller")
        self.assertEqual(crb["roleRef"]["name"], "ecr-renew-controller")
        self.assertEqual(crb["subjects"][0]["name"], "ecr-renew-sa")

    def assert_service_reaches_the_controller(self, svc: dict, match_labels: dict, container_ports: list[dict]):
        """What a user checks on the metrics Service once it is applied: it got a cluster IP, it
        selects the controller's pods (the Deployment's selector, hence its pod labels), its one
        port sends to the container port named http, and not-ready pods are published too (a
        controller that cannot write its Secrets is not ready, and that is when it must be scraped)."""
        spec = svc["spec"]
        self.assertEqual(spec["type"], "ClusterIP")
        self.assertRegex(spec.get("clusterIP", ""), r"^10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+$")  # 10.96.0.0/12
        self.assertEqual(spec["clusterIPs"], [spec["clusterIP"]])
        self.assertEqual(spec["selector"], match_labels)
        self.assertEqual(spec["selector"], CONTROLLER_SELECTOR)
        (port,) = spec["ports"]
        named = {p["name"]: p for p in container_ports if "name" in p}
        self.assertEqual(port["targetPort"], "http")
        self.assertIn("http", named, container_ports)
        self.assertEqual(port["protocol"], named["http"].get("protocol", "TCP"))
        self.assertEqual((port["name"], port["port"]), ("http-metrics", named["http"]["containerPort"]))
        self.assertIs(spec["publishNotReadyAddresses"], True)
        self.assertEqual(spec["sessionAffinity"], "None")

    def test_read_back_the_service(self):
        svc = self.get("service", "ecr-renew-metrics", "kube-system")
        dep = self.get("deployment", "ecr-renew", "kube-system")
        self.assertEqual(svc["metadata"]["labels"], CONTROLLER_SELECTOR)
        pod_labels = dep["spec"]["template"]["metadata"]["labels"]
        self.assertLessEqual(svc["spec"]["selector"].items(), pod_labels.items())
        (c,) = dep["spec"]["template"]["spec"]["containers"]
        self.assert_service_reaches_the_controller(svc, dep["spec"]["selector"]["matchLabels"], c["ports"])
        proc = self.k("get", "svc", "-n", "kube-system", check=True)
        self.assertRegex(proc.stdout, r"\necr-renew-metrics\s+ClusterIP\s+10\.\d+\.\d+\.\d+\s+<none>\s+8080/TCP\s+")
        # Nothing runs in the stand-in, so make the pod the Deployment's ReplicaSet would, from its
        # template: the Service's selector, used as a label selector, finds it.
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": "ecr-renew-5d8f9c-x2k7q", "labels": pod_labels},
               "spec": copy.deepcopy(dep["spec"]["template"]["spec"])}
        r = self.kube.api("POST", "/api/v1/namespaces/kube-system/pods", pod)
        self.assertEqual(r.status, 201, r.body[:300])
        self.addCleanup(self.kube.api, "DELETE", "/api/v1/namespaces/kube-system/pods/ecr-renew-5d8f9c-x2k7q")
        selector = ",".join(f"{k}={v}" for k, v in sorted(svc["spec"]["selector"].items()))
        proc = self.k("get", "pods", "-n", "kube-system", "-l", selector, "-o", "name", check=True)
        self.assertEqual(proc.stdout.split(), ["pod/ecr-renew-5d8f9c-x2k7q"])

    def test_read_back_the_terraform_modules_service(self):
        """kubernetes_service_v1.metrics of deploy/terraform/modules/kubernetes, at the variables'
        defaults, as the provider would send it, applied to a namespace of its own (the kubernetes
        provider cannot run here): the same checks, against the module's own Deployment."""
        dt.require_node_modules(self)
        import test_drift as td

        tf = dt.hcl_module(td.K8S_MODULE)
        resolve = td.TfResolver(tf)
        meta = tf["resource"]["kubernetes_service_v1"]["metrics"]["metadata"][0]
        spec = tf["resource"]["kubernetes_service_v1"]["metrics"]["spec"][0]
        body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": meta["name"], "namespace": "tf-module"},
                "spec": {"type": spec["type"], "selector": resolve(spec["selector"]),
                         "publishNotReadyAddresses": spec["publish_not_ready_addresses"],
                         "ports": [{td.camel(k): resolve(v) for k, v in p.items()} for p in spec["port"]]}}
        self.kube.create_namespace("tf-module")
        path = os.path.join(self.kube.workdir, "tf-module-service.yaml")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(body, fh)
        proc = self.k("apply", "-f", path)
        self.assertEqual((proc.returncode, proc.stdout.strip()), (0, "service/ecr-renew-metrics created"), proc.stderr)
        svc = self.get("service", "ecr-renew-metrics", "tf-module")
        dep = tf["resource"]["kubernetes_deployment_v1"]["controller"]
        tmpl = dep["spec"][0]["template"][0]
        match_labels = resolve(dep["spec"][0]["selector"][0]["match_labels"])
        # The pod labels merge the selector last, so they carry it whatever pod_labels and labels hold.
        self.assertEqual(tmpl["metadata"][0]["labels"], "${local.controller_pod_labels}")
        self.assertRegex(tf["locals"]["controller_pod_labels"], r"^\$\{merge\(.*, local\.controller_selector\)\}$")
        ports = [{td.camel(k): resolve(v) for k, v in p.items()} for p in tmpl["spec"][0]["container"][0]["port"]]
        self.assert_service_reaches_the_controller(svc, match_labels, ports)

    def can(self, *args: str) -> bool:
        proc = self.k("auth", "can-i", *args, kubeconfig=self.sa_kubeconfig)
        self.assertIn(proc.stdout.strip(), ("yes", "no"), proc.stderr)
        return proc.stdout.strip() == "yes"

    def test_rbac_gives_the_service_account_exactly_what_run_needs(self):
        secret = "secrets/ecr-registry-secret"
        allowed = [("list", "namespaces"), ("watch", "namespaces")]
        for verb in ("get", "list", "watch", "update", "patch"):
            allowed += [(verb, secret, "--all-namespaces"), (verb, secret, "-n", "team-a")]
        allowed += [("create", "secrets", "-n", "team-a"), ("create", "secrets", "-n", "runtime")]
        for args in allowed:
            with self.subTest(may=" ".join(args)):
                self.assertTrue(self.can(*args), f"ecr-renew-sa cannot {' '.join(args)}")
        refused = [("get", "namespaces/team-a"), ("create", "namespaces"), ("delete", "namespaces/team-a"),
                   ("update", "namespaces/team-a"),
                   ("patch", "namespaces/team-a"),
                   ("delete", secret, "-n", "team-a"), ("deletecollection", "secrets", "-n", "team-a"),
                   ("list", "secrets", "--all-namespaces"), ("watch", "secrets", "-n", "team-a"),
                   ("get", "secrets/some-other-secret", "-n", "team-a"),
                   ("update", "secrets/some-other-secret", "-n", "team-a"),
                   ("get", "configmaps", "-n", "team-a"), ("create", "serviceaccounts", "-n", "team-a"),
                   ("patch", "serviceaccounts/default", "-n", "team-a"), ("create", "leases", "-n", "kube-system"),
                   ("create", "events", "-n", "team-a")]
        for args in refused:
            with self.subTest(may_not=" ".join(args)):
                self.assertFalse(self.can(*args), f"ecr-renew-sa may {' '.join(args)}")

    def test_the_controllers_requests_are_authorised(self):
        # The requests `run` sends, as the ServiceAccount: the list and watch
        # of the Secret across namespaces only work with its name as a field
        # selector; the same without it is refused.
        name_selector = {"fieldSelector": "metadata.name=ecr-registry-secret"}
        for path, query, status in (
                ("/api/v1/namespaces", {"limit": "500"}, 200),
                ("/api/v1/namespaces", {"watch": "true", "timeoutSeconds": "1"}, 200),
                ("/api/v1/secrets", dict(name_selector, limit="500"), 200),
                ("/api/v1/secrets", dict(name_selector, watch="true", timeoutSeconds="1"), 200),
                ("/api/v1/secrets", {"limit": "500"}, 403),
                ("/api/v1/secrets", {"watch": "true", "timeoutSeconds": "1"}, 403),
                ("/api/v1/namespaces/team-a/secrets", {"limit": "500"}, 403),
                ("/api/v1/secrets", {"fieldSelector": "metadata.name=other", "limit": "500"}, 403)):
            with self.subTest(path=path, query=query):
                r = self.kube.api("GET", path, user=SA_USER, query=query)
                self.assertEqual(r.status, status, r.body[:300])

    def test_the_service_account_can_write_the_secret_in_a_new_namespace(self):
        # What the controller does for a namespace created after it started:
        # no Role there, the ClusterRole is enough. Never a DELETE.
        self.kube.create_namespace("team-b")
        body = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
                "metadata": {"name": "ecr-registry-secret", "namespace": "team-b",
                             "labels": {"app.kubernetes.io/managed-by": "ecr-renew"}},
                "data": {".dockerconfigjson": base64.b64encode(b'{"auths":{}}').decode()}}
        r = self.kube.api("POST", "/api/v1/namespaces/team-b/secrets", body, user=SA_USER)
        self.assertEqual(r.status, 201, r.body[:300])
        r = self.kube.api("GET", "/api/v1/namespaces/team-b/secrets/ecr-registry-secret", user=SA_USER)
        self.assertEqual(r.status, 200, r.body[:300])
        body = r.json
        body["metadata"]["annotations"] = {"ecr-renew/renewed-at": "2026-01-01T00:00:00Z"}
        r = self.kube.api("PUT", "/api/v1/namespaces/team-b/secrets/ecr-registry-secret", body, user=SA_USER)
        self.assertEqual(r.status, 200, r.body[:300])
        r = self.kube.api("DELETE", "/api/v1/namespaces/team-b/secrets/ecr-registry-secret", user=SA_USER)
        self.assertEqual(r.status, 403, r.body[:300])


if __name__ == "__main__":
    unittest.main()

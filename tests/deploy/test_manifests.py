"""The Kubernetes manifests in deploy/kubernetes: they render with
`kubectl kustomize`, pass the API's JSON schemas (npm kubernetes-models), and
the real kubectl applies them to the Kubernetes API stand-in
(tests/fakes/kube), which then enforces the Role they declare.

The same for the controller (components/controller, with service-monitor
and prometheus-rule): its objects render and fit together (probes, ports,
Service, ServiceMonitor, two replicas with leader election, the Lease's
Role, the PodDisruptionBudget, anti-affinity), pass the schemas (the
Prometheus operator's kinds by hand), are applied with kubectl and enforce
exactly the rights of the ClusterRole and the Lease's Role; the alert rules
pass `promtool check rules` and fire as documented under `promtool test
rules`. The optional components service-accounts and heal-pods add their
variables and exactly their rules, and nothing without them. Then
`ecr-renew run` itself runs with the Deployment's environment and only the
applied rights (leader election, Events, ServiceAccount patching, healing),
and `ecr-renew sync` with the CronJob's and the service-accounts component.

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
    ("role.rbac.authorization.k8s.io", "ecr-renew-leader-election", "kube-system"),
    ("rolebinding.rbac.authorization.k8s.io", "ecr-renew-leader-election", "kube-system"),
    ("deployment.apps", "ecr-renew", "kube-system"),
    ("service", "ecr-renew-metrics", "kube-system"),
]
CONTROLLER_KINDS = ["Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
                    "Deployment", "PodDisruptionBudget", "Service"]
# The ClusterRole, exactly, without and with the optional components:
# (apiGroups, resources, resourceNames, sorted verbs).
BASE_CONTROLLER_RULES = [
    (("",), ("namespaces",), (), ("list", "watch")),
    (("",), ("secrets",), (), ("create",)),
    (("",), ("secrets",), ("ecr-registry-secret",), ("get", "list", "patch", "update", "watch")),
    (("",), ("events",), (), ("create", "patch")),
]
SA_RULES = [(("",), ("serviceaccounts",), ("default",), ("get", "list", "patch", "watch"))]
HEAL_RULES = [(("",), ("pods",), (), ("delete", "list", "watch")),
              (("",), ("serviceaccounts",), (), ("get", "list", "watch"))]
LEASE_RULES = [(("coordination.k8s.io",), ("leases",), (), ("create",)),
               (("coordination.k8s.io",), ("leases",), ("ecr-renew",), ("get", "update"))]
FIELD_REF = lambda path: {"fieldRef": {"apiVersion": "v1", "fieldPath": path}}  # noqa: E731
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


def rule_table(rules: list[dict]) -> list[tuple]:
    return sorted((tuple(r["apiGroups"]), tuple(r["resources"]), tuple(r.get("resourceNames", ())),
                   tuple(sorted(r["verbs"]))) for r in rules)


def env_of(obj: dict) -> dict:
    return {e["name"]: e["valueFrom"] if "valueFrom" in e else e.get("value") for e in container(obj)["env"]}


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
        self.assertEqual(sorted(o["kind"] for o in objects), sorted(CONTROLLER_KINDS))
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
        self.assertEqual(dep["spec"]["replicas"], 2)
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
        self.assertEqual(table, sorted(BASE_CONTROLLER_RULES))
        secret_name = {e["name"]: e.get("value") for e in container(dt.find(objects, "Deployment"))["env"]}[
            "ECR_RENEW_SECRET_NAME"]
        self.assertEqual(secret_name, "ecr-registry-secret")
        crb = dt.find(objects, "ClusterRoleBinding", "ecr-renew-controller")
        self.assertEqual(crb["roleRef"], {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                          "name": "ecr-renew-controller"})
        self.assertEqual(crb["subjects"], [{"kind": "ServiceAccount", "name": "ecr-renew-sa",
                                            "namespace": "kube-system"}])
        # sync's Role and RoleBinding are gone; the leader election's stay.
        self.assertEqual(sorted((o["kind"], o["metadata"]["name"]) for o in objects
                                if o["kind"] in ("Role", "RoleBinding")),
                         [("Role", "ecr-renew-leader-election"), ("RoleBinding", "ecr-renew-leader-election")])

    def test_leader_election(self):
        # Two replicas elect a leader on the Lease kube-system/ecr-renew; the
        # Role gives exactly client-go's rights on it, there only, to the
        # controller's account.
        objects = controller_objects()
        dep = dt.find(objects, "Deployment")
        env = env_of(dep)
        self.assertEqual(dep["spec"]["replicas"], 2)
        self.assertEqual(env["ECR_RENEW_LEADER_ELECT"], "true")
        self.assertEqual(env["ECR_RENEW_LEASE_NAME"], "ecr-renew")
        self.assertEqual(env["ECR_RENEW_LEASE_NAMESPACE"], FIELD_REF("metadata.namespace"))
        # POD_NAME names the Lease holder and, with POD_NAMESPACE, the Pod
        # TokenRenewalFailed Events are recorded on.
        self.assertEqual(env["POD_NAME"], FIELD_REF("metadata.name"))
        self.assertEqual(env["POD_NAMESPACE"], FIELD_REF("metadata.namespace"))
        role = dt.find(objects, "Role", "ecr-renew-leader-election")
        self.assertEqual(role["metadata"]["namespace"], dep["metadata"]["namespace"])
        self.assertEqual(rule_table(role["rules"]), sorted(LEASE_RULES))
        self.assertIn(env["ECR_RENEW_LEASE_NAME"], [n for r in role["rules"] for n in r.get("resourceNames", [])])
        rb = dt.find(objects, "RoleBinding", "ecr-renew-leader-election")
        self.assertEqual(rb["metadata"]["namespace"], "kube-system")
        self.assertEqual(rb["roleRef"], {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                         "name": "ecr-renew-leader-election"})
        self.assertEqual(rb["subjects"], [{"kind": "ServiceAccount", "name": "ecr-renew-sa",
                                           "namespace": "kube-system"}])
        self.assertEqual(dep["spec"]["template"]["spec"]["serviceAccountName"], "ecr-renew-sa")

    def test_pod_disruption_budget_and_anti_affinity(self):
        objects = controller_objects()
        dep = dt.find(objects, "Deployment")
        pdb = dt.find(objects, "PodDisruptionBudget", "ecr-renew")
        self.assertEqual(pdb["apiVersion"], "policy/v1")
        self.assertEqual(pdb["metadata"]["namespace"], dep["metadata"]["namespace"])
        self.assertEqual(pdb["spec"], {"maxUnavailable": 1, "selector": {"matchLabels": CONTROLLER_SELECTOR}})
        # The budget, for the pods it selects (the Deployment's, never the
        # renewal Jobs'): evictions allowed = healthy - (replicas - maxUnavailable).
        self.assertEqual(pdb["spec"]["selector"], dep["spec"]["selector"])
        for replicas, healthy, allowed in ((2, 2, 1), (2, 1, 0), (1, 1, 1), (3, 3, 1)):
            self.assertEqual(max(0, healthy - (replicas - pdb["spec"]["maxUnavailable"])), allowed)
        affinity = dep["spec"]["template"]["spec"]["affinity"]
        self.assertEqual(affinity, {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 100, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname",
                                                "labelSelector": {"matchLabels": CONTROLLER_SELECTOR}}}]}})
        self.assertLessEqual(CONTROLLER_SELECTOR.items(), dep["spec"]["template"]["metadata"]["labels"].items())
        # A rollout surges one pod and never goes below the replicas.
        self.assertEqual(dep["spec"]["strategy"]["rollingUpdate"], {"maxSurge": 1, "maxUnavailable": 0})

    def test_options_are_off_without_their_components(self):
        objects = controller_objects()
        env = env_of(dt.find(objects, "Deployment"))
        self.assertEqual({k: env[k] for k in ("ECR_RENEW_SERVICE_ACCOUNTS", "ECR_RENEW_ANNOTATED_SERVICE_ACCOUNTS",
                                              "ECR_RENEW_HEAL_PODS", "ECR_RENEW_HEAL_RATE")},
                         {"ECR_RENEW_SERVICE_ACCOUNTS": "", "ECR_RENEW_ANNOTATED_SERVICE_ACCOUNTS": "false",
                          "ECR_RENEW_HEAL_PODS": "false", "ECR_RENEW_HEAL_RATE": "10"})
        role = dt.find(objects, "ClusterRole")
        self.assertEqual(rule_table(role["rules"]), sorted(BASE_CONTROLLER_RULES))
        self.assertFalse({"serviceaccounts", "pods"} & {res for r in role["rules"] for res in r["resources"]})
        cj_objects = dt.kustomize(dt.IRSA_OVERLAY)
        self.assertNotIn("ECR_RENEW_SERVICE_ACCOUNTS", env_of(dt.find(cj_objects, "CronJob")))
        self.assertEqual({res for r in dt.find(cj_objects, "Role")["rules"] for res in r["resources"]}, {"secrets"})

    def test_service_accounts_and_heal_pods_components(self):
        for sa, heal in ((True, False), (False, True), (True, True)):
            with self.subTest(service_accounts=sa, heal_pods=heal):
                objects = controller_objects(service_accounts=sa, heal_pods=heal)
                env = env_of(dt.find(objects, "Deployment"))
                self.assertEqual(env["ECR_RENEW_SERVICE_ACCOUNTS"], "default" if sa else "")
                self.assertEqual(env["ECR_RENEW_HEAL_PODS"], "true" if heal else "false")
                self.assertEqual(env["ECR_RENEW_ANNOTATED_SERVICE_ACCOUNTS"], "false")
                self.assertEqual(env["ECR_RENEW_HEAL_RATE"], "10")
                self.assertEqual(env["ECR_RENEW_LEADER_ELECT"], "true")
                role = dt.find(objects, "ClusterRole")
                self.assertEqual(rule_table(role["rules"]), sorted(
                    BASE_CONTROLLER_RULES + (SA_RULES if sa else []) + (HEAL_RULES if heal else [])))
                # Nothing that creates, updates or deletes anything but pods.
                for r in role["rules"]:
                    if "delete" in r["verbs"]:
                        self.assertEqual(r["resources"], ["pods"])
                self.assertEqual(sorted(o["kind"] for o in objects), sorted(o["kind"] for o in controller_objects()))

    def test_service_accounts_component_in_mode_cronjob(self):
        with dt.irsa_overlay_with_initial_job(service_accounts=True) as overlay:
            objects = dt.kustomize(overlay)
        for kind in ("CronJob", "Job"):
            self.assertEqual(env_of(dt.find(objects, kind))["ECR_RENEW_SERVICE_ACCOUNTS"], "default", kind)
        self.assertEqual(container(dt.find(objects, "Job")), container(dt.find(objects, "CronJob")))
        self.assertEqual(rule_table(dt.find(objects, "Role")["rules"]), sorted([
            (("",), ("secrets",), (), ("create",)),
            (("",), ("secrets",), ("ecr-registry-secret",), ("get", "update")),
            (("",), ("serviceaccounts",), ("default",), ("get", "patch"))]))
        self.assertFalse([o for o in objects if o["kind"].startswith("Cluster")])

    def test_overlay_lists_the_optional_components_in_order(self):
        # They patch what the controller component renders, so they must come
        # after it (and after initial-job in the CronJob's list).
        with open(os.path.join(dt.IRSA_OVERLAY, "kustomization.yaml"), encoding="utf-8") as fh:
            text = fh.read()
        listed = re.findall(r"^#   - \.\./\.\./components/([a-z-]+)$", text, re.M)
        self.assertEqual(listed, ["initial-job", "service-accounts", "controller", "service-monitor",
                                  "prometheus-rule", "service-accounts", "heal-pods"])


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
        self.assertEqual(sorted(o["kind"] for o in objects), sorted(CONTROLLER_KINDS))
        self.assert_valid(objects)

    def test_optional_components_are_schema_valid(self):
        objects = [o for o in controller_objects(service_accounts=True, heal_pods=True)
                   if o["kind"] not in dt.MONITORING_KINDS]
        self.assertEqual(sorted(o["kind"] for o in objects), sorted(CONTROLLER_KINDS))
        self.assert_valid(objects)
        with dt.irsa_overlay_with_initial_job(service_accounts=True) as overlay:
            self.assert_valid(dt.kustomize(overlay))

    def test_validator_catches_broken_leader_election_objects(self):
        # A control for the kinds the controller gained.
        broken = [o for o in controller_objects() if o["kind"] not in dt.MONITORING_KINDS]
        dt.find(broken, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"] = "ecr-renew"
        dt.find(broken, "Role")["rules"][1]["resourceNames"] = "ecr-renew"
        del dt.find(broken, "RoleBinding")["roleRef"]["name"]
        dep = dt.find(broken, "Deployment")
        dep["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"][
            "preferredDuringSchedulingIgnoredDuringExecution"][0]["weight"] = "100"
        results = {r["kind"]: r for r in dt.validate_with_kubernetes_models(broken)}
        for kind, fragment in (("PodDisruptionBudget", "matchLabels"), ("Role", "resourceNames"),
                               ("RoleBinding", "name"), ("Deployment", "weight")):
            with self.subTest(kind=kind, field=fragment):
                self.assertFalse(results[kind]["ok"])
                self.assertIn(fragment, " ".join(results[kind]["errors"]))
        self.assertTrue(results["ClusterRoleBinding"]["ok"])

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
    SERVICE_ACCOUNTS = False  # components/service-accounts after initial-job

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
            with dt.irsa_overlay_with_initial_job(service_accounts=cls.SERVICE_ACCOUNTS) as overlay:
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
        accounts = self.kube.requests(path_contains="/serviceaccounts")
        if not self.SERVICE_ACCOUNTS:
            self.assertFalse(accounts, "sync touched ServiceAccounts without the component")

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

class ApplyServiceAccountsCronJobToFakeKube(ApplyToFakeKube):
    """ApplyToFakeKube's checks again with components/service-accounts (mode
    cronjob): the Role gains get and patch on serviceaccounts/default, and
    `ecr-renew sync` with the CronJob's environment and that Role alone adds
    the Secret to the default ServiceAccount, others' entries kept."""

    SERVICE_ACCOUNTS = True

    def test_the_role_gives_get_and_patch_on_default_only(self):
        import yaml

        cronjob = dt.find([o for o in yaml.safe_load_all(self.rendered) if o], "CronJob")
        self.assertEqual(env_of(cronjob)["ECR_RENEW_SERVICE_ACCOUNTS"], "default")

        def can(*args: str) -> bool:
            proc = self.k("auth", "can-i", *args, kubeconfig=self.sa_kubeconfig)
            self.assertIn(proc.stdout.strip(), ("yes", "no"), proc.stderr)
            return proc.stdout.strip() == "yes"

        for args in (("get", "serviceaccounts/default", "-n", "runtime"),
                     ("patch", "serviceaccounts/default", "-n", "runtime")):
            self.assertTrue(can(*args), f"ecr-renew-sa cannot {' '.join(args)}")
        for args in (("list", "serviceaccounts", "-n", "runtime"), ("watch", "serviceaccounts", "-n", "runtime"),
                     ("patch", "serviceaccounts/builder", "-n", "runtime"),
                     ("update", "serviceaccounts/default", "-n", "runtime"),
                     ("patch", "serviceaccounts/default", "-n", "default"),
                     ("get", "serviceaccounts/default", "--all-namespaces")):
            self.assertFalse(can(*args), f"ecr-renew-sa may {' '.join(args)}")

    def test_sync_patches_the_default_service_account(self):
        self.kube.api("PATCH", "/api/v1/namespaces/runtime/serviceaccounts/default",
                      {"imagePullSecrets": [{"name": "team-registry"}]},
                      content_type="application/merge-patch+json")
        proc = self.run_sync()
        self.assertEqual(proc.returncode, 0, f"ecr-renew sync failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        sa = self.kube.service_account("runtime", "default")
        self.assertEqual(sa["imagePullSecrets"], [{"name": "team-registry"}, {"name": "ecr-registry-secret"}])
        self.assertIn("serviceaccounts finished patched=1 failed=0", proc.stderr)
        reqs = self.kube.requests(path_contains="/serviceaccounts")
        self.assertTrue(reqs)
        self.assertEqual({r["status"] for r in reqs} - {200}, set(), [(r["method"], r["status"]) for r in reqs])


class AppliedController:
    """Mixin: kubectl apply of the irsa overlay with the controller component
    (and the components OVERLAY asks for) to a fake kube-apiserver of its
    own, as admin. The ecr-renew ServiceAccount has no rights of its own
    there: only the applied ClusterRole and the Lease's Role give it any.
    The Prometheus operator's kinds are left out (the stand-in has no CRDs),
    and so is every kind the stand-in does not serve (it reports them
    through discovery, which kubectl reads): the PodDisruptionBudget."""

    kube = None
    OVERLAY: dict = {}

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
            cls.objects = objects = controller_objects(**cls.OVERLAY)
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

    def can(self, *args: str) -> bool:
        proc = self.k("auth", "can-i", *args, kubeconfig=self.sa_kubeconfig)
        self.assertIn(proc.stdout.strip(), ("yes", "no"), proc.stderr)
        return proc.stdout.strip() == "yes"

    def assert_may(self, allowed: list[tuple], refused: list[tuple]) -> None:
        for args in allowed:
            with self.subTest(may=" ".join(args)):
                self.assertTrue(self.can(*args), f"ecr-renew-sa cannot {' '.join(args)}")
        for args in refused:
            with self.subTest(may_not=" ".join(args)):
                self.assertFalse(self.can(*args), f"ecr-renew-sa may {' '.join(args)}")

    def test_only_the_kinds_the_stand_in_lacks_are_left_out(self):
        monitoring = dt.MONITORING_KINDS if self.OVERLAY.get("monitoring", True) else set()
        self.assertEqual(set(self.left_out), monitoring | dt.NOT_SERVED_KINDS, self.left_out)
        for kind in ("Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
                     "Deployment", "Service"):
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

    def start_controller(self, pod: str, aws, **env_overrides: str):
        """`ecr-renew run` as one replica of the applied Deployment would run:
        its args and environment (the downward API resolved for a pod of that
        name), the ServiceAccount's token (only the applied rights), AWS the
        fake's through web identity, the endpoint on a free port."""
        dt.require_ecr_renew(self, "--leader-elect", "--heal-pods")
        dep = self.get("deployment", "ecr-renew", "kube-system")
        (c,) = dep["spec"]["template"]["spec"]["containers"]
        token_file = aws.write_token_file(sub=SA_USER)
        env = aws.env(web_identity=(aws.role_arn("ecr-renew-irsa"), token_file))
        env.update(dt.container_env(c, pod, dep["metadata"]["namespace"]))
        # The manifests' placeholder region, replaced by the fake's; no
        # in-cluster folder here, the kubeconfig instead.
        env.update({"AWS_REGION": aws.region, "ECR_RENEW_REGIONS": aws.region, "ECR_RENEW_LISTEN": "127.0.0.1:0",
                    "KUBECONFIG": self.sa_kubeconfig, "ECR_RENEW_SERVICEACCOUNT_DIR": "/nonexistent"})
        env.update(env_overrides)
        run = dt.BackgroundRun(c["args"], env)
        self.addCleanup(run.stop)
        return run

    def sa_requests(self, since: int = 0) -> list[dict]:
        return [q for q in self.kube.requests() if q.get("user") == SA_USER and q["seq"] > since]

    def assert_nothing_refused(self, since: int = 0) -> None:
        refused = [(q["method"], q["path"], q["status"]) for q in self.sa_requests(since) if q["status"] in (401, 403)]
        self.assertFalse(refused, "requests of the controller the applied RBAC refused")

    def events(self, ns: str) -> list[dict]:
        return json.loads(self.k("get", "events", "-n", ns, "-o", "json", check=True).stdout)["items"]


class ApplyControllerToFakeKube(AppliedController, unittest.TestCase):
    """The controller component (with the monitoring ones): its
    ServiceAccount is checked for exactly the controller's rights, with
    `kubectl auth can-i` and with the list and watch requests the
    controller sends; then two copies of `ecr-renew run` elect a leader and
    record Events with those rights alone."""

    def test_read_back_the_deployment(self):
        dep = self.get("deployment", "ecr-renew", "kube-system")
        self.assertIn("uid", dep["metadata"])
        self.assertEqual(dep["spec"]["replicas"], 2)
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
        self.assertRegex(proc.stdout, r"ecr-renew\s+0/2")
        env = {e["name"]: e.get("valueFrom", e.get("value")) for e in c["env"]}
        self.assertEqual(env["ECR_RENEW_LEADER_ELECT"], "true")
        self.assertEqual(env["POD_NAME"], FIELD_REF("metadata.name"))
        self.assertEqual(pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0][
            "podAffinityTerm"]["topologyKey"], "kubernetes.io/hostname")

    def test_read_back_the_cluster_role_and_binding(self):
        role = self.get("clusterrole", "ecr-renew-controller")
        self.assertNotIn("namespace", role["metadata"])
        self.assertEqual(rule_table(role["rules"]), sorted(BASE_CONTROLLER_RULES))
        crb = self.get("clusterrolebinding", "ecr-renew-controller")
        self.assertEqual(crb["roleRef"]["name"], "ecr-renew-controller")
        self.assertEqual(crb["subjects"][0]["name"], "ecr-renew-sa")

    def test_read_back_the_leader_election_role_and_binding(self):
        role = self.get("role", "ecr-renew-leader-election", "kube-system")
        self.assertEqual(rule_table(role["rules"]), sorted(LEASE_RULES))
        rb = self.get("rolebinding", "ecr-renew-leader-election", "kube-system")
        self.assertEqual(rb["roleRef"], {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                         "name": "ecr-renew-leader-election"})
        self.assertEqual(rb["subjects"], [{"kind": "ServiceAccount", "name": "ecr-renew-sa",
                                           "namespace": "kube-system"}])
        proc = self.k("get", "roles,rolebindings", "-n", "kube-system", check=True)
        for kind in ("role", "rolebinding"):
            self.assertRegex(proc.stdout, rf"(?m)^{kind}\.rbac\.authorization\.k8s\.io/ecr-renew-leader-election\s")

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

    def test_rbac_gives_the_service_account_exactly_what_run_needs(self):
        secret = "secrets/ecr-registry-secret"
        allowed = [("list", "namespaces"), ("watch", "namespaces")]
        for verb in ("get", "list", "watch", "update", "patch"):
            allowed += [(verb, secret, "--all-namespaces"), (verb, secret, "-n", "team-a")]
        allowed += [("create", "secrets", "-n", "team-a"), ("create", "secrets", "-n", "runtime")]
        # Events in every namespace, a new one too; the Lease by name, and
        # creating it, in kube-system only.
        for verb in ("create", "patch"):
            allowed += [(verb, "events", "-n", "team-a"), (verb, "events", "-n", "kube-system"),
                        (verb, "events", "--all-namespaces")]
        allowed += [("get", "leases/ecr-renew", "-n", "kube-system"),
                    ("update", "leases/ecr-renew", "-n", "kube-system"),
                    ("create", "leases", "-n", "kube-system"),
                    ("create", "leases.coordination.k8s.io", "-n", "kube-system")]
        refused = [("get", "namespaces/team-a"), ("create", "namespaces"), ("delete", "namespaces/team-a"),
                   ("update", "namespaces/team-a"),
                   ("patch", "namespaces/team-a"),
                   ("delete", secret, "-n", "team-a"), ("deletecollection", "secrets", "-n", "team-a"),
                   ("list", "secrets", "--all-namespaces"), ("watch", "secrets", "-n", "team-a"),
                   ("get", "secrets/some-other-secret", "-n", "team-a"),
                   ("update", "secrets/some-other-secret", "-n", "team-a"),
                   ("get", "configmaps", "-n", "team-a"), ("create", "serviceaccounts", "-n", "team-a"),
                   # ServiceAccounts and pods only with their components.
                   ("patch", "serviceaccounts/default", "-n", "team-a"),
                   ("get", "serviceaccounts/default", "-n", "team-a"),
                   ("list", "serviceaccounts", "--all-namespaces"), ("watch", "serviceaccounts", "--all-namespaces"),
                   ("list", "pods", "--all-namespaces"), ("watch", "pods", "-n", "team-a"),
                   ("delete", "pods", "-n", "team-a"),
                   # The Lease: no other name, no other namespace, no delete, list or watch.
                   ("get", "leases/other", "-n", "kube-system"), ("update", "leases/other", "-n", "kube-system"),
                   ("delete", "leases/ecr-renew", "-n", "kube-system"),
                   ("patch", "leases/ecr-renew", "-n", "kube-system"),
                   ("list", "leases", "-n", "kube-system"), ("watch", "leases", "-n", "kube-system"),
                   ("create", "leases", "-n", "team-a"), ("get", "leases/ecr-renew", "-n", "team-a"),
                   ("update", "leases/ecr-renew", "-n", "default"), ("create", "leases", "--all-namespaces"),
                   # Events: write only.
                   ("get", "events", "-n", "team-a"), ("list", "events", "--all-namespaces"),
                   ("update", "events", "-n", "team-a"), ("delete", "events", "-n", "team-a"),
                   ("create", "events.events.k8s.io", "-n", "team-a")]
        self.assert_may(allowed, refused)

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

    def test_two_replicas_elect_a_leader_with_these_rights(self):
        """`ecr-renew run` as the Deployment's two replicas run it, with only
        the applied rights: one takes the Lease and writes (the Secret and
        its Event), the other stands by ready, and takes over once the
        leader stops (it gives the Lease up on SIGTERM). No request of
        either is refused."""
        for mod in ("moto", "boto3"):
            if not dt.python_module_available(mod):
                self.skipTest(f"python module {mod} is missing (the AWS fake needs it)")
        aws_h = dt.load_harness("aws")
        self.kube.create_namespace("team-e2e")
        self.addCleanup(self.kube.delete_namespace, "team-e2e")
        self.k("delete", "secret", "ecr-registry-secret", "-n", "runtime", "--ignore-not-found")
        since = self.kube.requests()[-1]["seq"]
        with aws_h.FakeAws() as aws:
            a = self.start_controller("ecr-renew-7d9f8-aaaaa", aws, ECR_RENEW_NAMESPACES="runtime,team-e2e")
            a.wait_for_log("became leader")
            a.wait_for_log("first pass done")
            b = self.start_controller("ecr-renew-7d9f8-bbbbb", aws, ECR_RENEW_NAMESPACES="runtime,team-e2e")
            b.wait_for_log("controller started")
            lease = self.kube.get_object("Lease", "kube-system", "ecr-renew")
            self.assertTrue(lease["spec"]["holderIdentity"].startswith("ecr-renew-7d9f8-aaaaa"), lease["spec"])
            for ns in ("runtime", "team-e2e"):
                self.assertIsNotNone(self.kube.get_object("Secret", ns, "ecr-registry-secret"), ns)
                created = [e for e in self.events(ns) if e["reason"] == "SecretCreated"]
                self.assertEqual(len(created), 1, ns)
                self.assertEqual((created[0]["involvedObject"]["kind"], created[0]["involvedObject"]["name"]),
                                 ("Secret", "ecr-registry-secret"))
            # What the guide tells operators to type.
            proc = self.k("get", "events", "-A", "--field-selector", "source=ecr-renew", check=True)
            self.assertEqual(len(re.findall(r"(?m)\bSecretCreated\b", proc.stdout)), 2, proc.stdout)
            proc = self.k("get", "events", "-n", "runtime", "--field-selector",
                          "reason=SecretCreated,involvedObject.name=ecr-registry-secret", "-o", "name", check=True)
            self.assertEqual(len(proc.stdout.split()), 1, proc.stdout)
            proc = self.k("get", "lease", "ecr-renew", "-n", "kube-system", check=True)
            self.assertIn("ecr-renew-7d9f8-aaaaa", proc.stdout)
            self.assertEqual(a.stop(), 0)
            b.wait_for_log("became leader", timeout=15)
            holder = self.kube.get_object("Lease", "kube-system", "ecr-renew")["spec"]["holderIdentity"]
            self.assertTrue(holder.startswith("ecr-renew-7d9f8-bbbbb"), holder)
            self.assertEqual(b.stop(), 0)
        paths = {q["path"] for q in self.sa_requests(since)}
        self.assertIn("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/ecr-renew", paths)
        self.assertTrue([p for p in paths if p.endswith("/events")], paths)
        self.assertFalse([p for p in paths if "/serviceaccounts" in p or "/pods" in p], "options that are off")
        self.assert_nothing_refused(since)


class ApplyControllerOptionsToFakeKube(AppliedController, unittest.TestCase):
    """The controller with components/service-accounts and
    components/heal-pods: exactly their extra rights, and `ecr-renew run`
    with the Deployment's environment and those rights alone patches the
    default ServiceAccount and heals a pod created before it had the
    Secret, with no request refused."""

    OVERLAY = {"monitoring": False, "service_accounts": True, "heal_pods": True}

    def test_read_back_the_cluster_role(self):
        role = self.get("clusterrole", "ecr-renew-controller")
        self.assertEqual(rule_table(role["rules"]), sorted(BASE_CONTROLLER_RULES + SA_RULES + HEAL_RULES))
        dep = self.get("deployment", "ecr-renew", "kube-system")
        env = {e["name"]: e.get("value") for e in dep["spec"]["template"]["spec"]["containers"][0]["env"]}
        self.assertEqual((env["ECR_RENEW_SERVICE_ACCOUNTS"], env["ECR_RENEW_HEAL_PODS"]), ("default", "true"))

    def test_rbac_gives_what_the_options_need(self):
        allowed = []
        for ns in (("-n", "team-a"), ("--all-namespaces",)):
            allowed += [("patch", "serviceaccounts/default", *ns), ("get", "serviceaccounts/default", *ns),
                        ("list", "serviceaccounts", *ns), ("watch", "serviceaccounts", *ns),
                        ("get", "serviceaccounts/builder", *ns),
                        ("list", "pods", *ns), ("watch", "pods", *ns), ("delete", "pods", *ns),
                        ("delete", "pods/web-5d8f9-x2k7q", *ns)]
        refused = [("patch", "serviceaccounts/builder", "-n", "team-a"),
                   ("update", "serviceaccounts/default", "-n", "team-a"),
                   ("create", "serviceaccounts", "-n", "team-a"), ("delete", "serviceaccounts/default", "-n", "team-a"),
                   ("get", "pods/web", "-n", "team-a"), ("create", "pods", "-n", "team-a"),
                   ("update", "pods/web", "-n", "team-a"), ("patch", "pods/web", "-n", "team-a"),
                   ("deletecollection", "pods", "-n", "team-a"), ("create", "pods/eviction", "-n", "team-a"),
                   ("get", "pods/log", "-n", "team-a"), ("create", "pods/exec", "-n", "team-a"),
                   ("delete", "deployments", "-n", "team-a"), ("delete", "replicasets", "-n", "team-a"),
                   ("delete", "secrets/ecr-registry-secret", "-n", "team-a")]
        self.assert_may(allowed, refused)

    def test_service_accounts_alone_list_by_name(self):
        # With components/service-accounts alone the rule is limited to
        # `default`: the controller then lists and watches with its name as a
        # field selector, which is allowed; the whole collection is not.
        # (Here heal-pods' rule allows that too, so check the rule alone.)
        with dt.irsa_overlay_with_controller(monitoring=False, service_accounts=True) as overlay:
            role = dt.find(dt.kustomize(overlay), "ClusterRole")
        (rule,) = [r for r in role["rules"] if r["resources"] == ["serviceaccounts"]]
        self.assertEqual(rule["resourceNames"], ["default"])
        self.assertLessEqual({"list", "watch"}, set(rule["verbs"]))

    def test_the_controller_heals_and_patches_with_these_rights(self):
        for mod in ("moto", "boto3"):
            if not dt.python_module_available(mod):
                self.skipTest(f"python module {mod} is missing (the AWS fake needs it)")
        aws_h = dt.load_harness("aws")
        self.kube.configure(recreateOwnedPods=True)
        self.addCleanup(self.kube.configure, recreateOwnedPods=False)
        since = self.kube.requests()[-1]["seq"] if self.kube.requests() else 0
        with aws_h.FakeAws() as aws:
            # A pod made before `default` had the Secret, stuck pulling from
            # our registry, owned by a ReplicaSet; and a bare one.
            image = aws.registry_host() + "/app:1"
            for name, owner in (("web-5d8f9-x2k7q", "ReplicaSet"), ("bare", None)):
                self.kube.create_pod("runtime", name, image=image, owner_kind=owner, owner_name="web-5d8f9")
                self.kube.set_pod_waiting("runtime", name, "ImagePullBackOff")
            run = self.start_controller("ecr-renew-7d9f8-aaaaa", aws)
            run.wait_for_log("became leader")
            run.wait_for_log("pod deleted so its owner makes it again")
            sa = self.kube.service_account("runtime", "default")
            self.assertIn({"name": "ecr-registry-secret"}, sa.get("imagePullSecrets", []))
            pods = {p["metadata"]["name"]: p for p in self.kube.objects("Pod", "runtime")}
            self.assertIn("bare", pods)
            self.assertNotIn("web-5d8f9-x2k7q", pods)
            again = [p for n, p in pods.items() if n.startswith("web-5d8f9")]
            self.assertEqual(len(again), 1)
            self.assertIn({"name": "ecr-registry-secret"}, again[0]["spec"].get("imagePullSecrets", []))
            reasons = {e["reason"] for e in self.events("runtime")}
            self.assertLessEqual({"SecretCreated", "PodHealed"}, reasons)
            self.assertEqual(run.stop(), 0)
        deletes = [q for q in self.sa_requests(since) if q["method"] == "DELETE"]
        self.assertEqual([(q["path"].rsplit("/", 1)[1], q["status"]) for q in deletes], [("web-5d8f9-x2k7q", 200)])
        self.assertTrue([q for q in self.sa_requests(since)
                         if q["method"] == "PATCH" and "/serviceaccounts/" in q["path"]])
        self.assert_nothing_refused(since)


if __name__ == "__main__":
    unittest.main()

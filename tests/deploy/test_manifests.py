"""The Kubernetes manifests in deploy/kubernetes: they render with
`kubectl kustomize`, pass the API's JSON schemas (npm kubernetes-models), and
the real kubectl applies them to the Kubernetes API stand-in
(tests/fakes/kube), which then enforces the Role they declare.

    python3 -m unittest tests/deploy/test_manifests.py -v
"""

from __future__ import annotations

import base64
import copy
import json
import os
import subprocess
import sys
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

if __name__ == "__main__":
    unittest.main()

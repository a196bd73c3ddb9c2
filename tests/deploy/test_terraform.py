"""Static checks of the Terraform module with terraform itself: formatting,
`terraform validate` of every root whose providers can be installed, and the
variables' validation blocks (bad input refused with our message, good input
accepted).

    python3 -m unittest tests/deploy/test_terraform.py -v
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import deploytest as dt  # noqa: E402

SKIP_DIRS = {".git", ".terraform", "node_modules", "__pycache__"}


def all_tf_files() -> list[str]:
    found = []
    for top, dirs, files in os.walk(dt.REPO):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith("build")]
        found += [os.path.join(top, f) for f in files if f.endswith((".tf", ".tfvars", ".tftest.hcl"))]
    return sorted(found)


class TerraformFormat(unittest.TestCase):
    def test_every_tf_file_is_formatted(self):
        dt.require_terraform(self)
        files = all_tf_files()
        self.assertTrue(files, "no .tf files found")
        ws = dt.TerraformWorkspace()
        self.addCleanup(ws.cleanup)
        proc = ws.run(dt.REPO, "fmt", "-check", "-diff", "-no-color", *files)
        self.assertEqual(proc.returncode, 0,
                         f"terraform fmt -check found unformatted files (run terraform fmt -recursive "
                         f"deploy):\n{dt.tf_output(proc)}")

    def test_fmt_recursive_over_deploy(self):
        dt.require_terraform(self)
        ws = dt.TerraformWorkspace()
        self.addCleanup(ws.cleanup)
        proc = ws.run(dt.REPO, "fmt", "-check", "-recursive", "-no-color", "deploy")
        self.assertEqual(proc.returncode, 0, dt.tf_output(proc))


class TerraformValidate(unittest.TestCase):
    """terraform init + validate on a copy of deploy/terraform."""

    @classmethod
    def setUpClass(cls):
        cls.ws = None
        if dt.terraform():
            cls.ws = dt.TerraformWorkspace()

    @classmethod
    def tearDownClass(cls):
        if cls.ws:
            cls.ws.cleanup()

    def _validate(self, *parts: str) -> None:
        dt.require_terraform(self)
        dt.require_aws_plugin(self)
        workdir = self.ws.dir(*parts)
        init = self.ws.init(workdir)
        if init.returncode != 0 and "hashicorp/kubernetes" in init.stderr + init.stdout:
            self.skipTest(f"{'/'.join(parts) or 'root module'}: {dt.KUBERNETES_PROVIDER_SKIP}")
        self.assertEqual(init.returncode, 0, f"terraform init failed:\n{dt.tf_output(init)}")
        proc = self.ws.run(workdir, "validate", "-no-color")
        self.assertEqual(proc.returncode, 0, f"terraform validate failed:\n{dt.tf_output(proc)}")
        self.assertIn("The configuration is valid", proc.stdout)

    def test_validate_example_iam_only(self):
        self._validate("examples", "iam-only")

    def test_validate_module_iam(self):
        self._validate("modules", "iam")

    def test_validate_root_module(self):
        self._validate()

    def test_validate_example_basic(self):
        self._validate("examples", "basic")

    def test_validate_module_kubernetes(self):
        self._validate("modules", "kubernetes")

    def test_validate_example_controller(self):
        self._validate("examples", "controller")


# Values that pass every validation of the root module (and exercise the
# complex types); each bad case below changes one of them.
GOOD = {
    "ecr_secret_enabled": True,
    "cluster_name": "prod-eu_1",
    "oidc_provider": "https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF",
    "aws_region": "eu-west-1",
    "ecr_secret_namespace": "runtime",
    "ecr_secret_namespaces": ["apps", "batch-jobs"],
    "ecr_secret_name": "ecr-registry-secret",
    "ecr_repository_arns": ["arn:aws:ecr:eu-west-1:123456789012:repository/app",
                            "arn:aws:ecr:*:123456789012:repository/team/*",
                            "arn:aws-cn:ecr:cn-north-1:123456789012:repository/x"],
    "ecr_extra_regions": ["us-east-1", "us-gov-west-1", "cn-northwest-1"],
    "ecr_registry_ids": ["123456789012", "210987654321"],
    "image_repository": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/tools/ecr-renew",
    "image_tag": "0.1.0",
    "image_digest": "sha256:" + "ab" * 32,
    "schedule": "15 0,8,16 * * *",
    "resources": {"requests": {"cpu": "5m", "memory": "8Mi"}, "limits": {"memory": "32Mi"}},
    "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "system", "effect": "NoSchedule"},
                    {"operator": "Exists", "effect": "NoExecute", "toleration_seconds": 60}],
    "node_affinity": {"required_terms": [{"match_expressions": [
        {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64", "arm64"]}]}],
        "preferred_terms": [{"weight": 50, "match_expressions": [
            {"key": "node-role", "operator": "Exists"}]}]},
    "priority_class_name": "system-cluster-critical",
    "pod_labels": {"team": "platform", "example.com/owner": "sre"},
    "labels": {"app.kubernetes.io/part-of": "platform"},
    "log_format": "json",
    "log_level": "debug",
    "starting_deadline_seconds": 600,
    "backoff_limit": 2,
    "active_deadline_seconds": 120,
    "initial_secret_timeout": "10m",
    "iam_role_permissions_boundary": "arn:aws:iam::123456789012:policy/boundary",
    "mode": "controller",
    "exclude_namespaces": ["kube-*", "team-?-sandbox", "default"],
    "namespace_selector": "env in (prod,staging),tier!=cache,!legacy,example.com/team==payments",
    "listen_port": 9090,
    "controller_resources": {"requests": {"cpu": "20m", "memory": "24Mi"}, "limits": {"memory": "48Mi"}},
    "service_monitor_enabled": True,
    "prometheus_rule_enabled": True,
    "monitoring_labels": {"release": "kube-prometheus-stack"},
    "controller_replicas": 3,
    "service_accounts": ["default", "builder.ci", "*"],
    "annotated_service_accounts": True,
    "heal_pods": True,
    "heal_rate": 600,
}

# (variable, bad value, fragment of our error message)
BAD = [
    ("cluster_name", "x" * 45, "at most 44 characters"),
    ("cluster_name", "bad name", "cluster_name must start"),
    ("oidc_provider", "not a url!", "oidc_provider must be an issuer URL"),
    ("aws_region", "us_east_1", "aws_region must be an AWS region"),
    ("ecr_secret_namespace", "Runtime", "DNS-1123 label"),
    ("ecr_secret_namespaces", ["ok", "-bad"], "ecr_secret_namespaces entry"),
    ("ecr_secret_name", "Bad_Name", "DNS-1123 subdomain"),
    ("ecr_repository_arns", ["arn:aws:ecr:us-east-1:123:repository/x"], "ECR repository ARN"),
    ("ecr_repository_arns", ["arn:aws:s3:::bucket"], "ECR repository ARN"),
    ("ecr_extra_regions", ["mars-1"], "ecr_extra_regions entry"),
    ("ecr_registry_ids", ["12345678901"], "12 digits"),
    ("ecr_registry_ids", ["123456789012"] * 11, "at most 10"),
    ("image_repository", "repo/ecr-renew:1.0", "without tag or digest"),
    ("image_tag", "-bad", "image_tag must be"),
    ("image_digest", "sha256:xyz", "image_digest must be"),
    ("image_pull_policy", "Sometimes", "image_pull_policy must be"),
    ("schedule", "0 */10 * * *", "not every 10 hours"),
    ("schedule", "0 */12 * * *", "not every 10 hours"),
    ("schedule", "0 0,12 * * *", "longest gap"),
    ("schedule", "0 3 * * *", "longest gap"),
    ("schedule", "0 */8 * * 1", "5 fields"),
    ("schedule", "@hourly", "5 fields"),
    ("starting_deadline_seconds", 5, "at least 10"),
    ("successful_jobs_history_limit", -1, ">= 0"),
    ("failed_jobs_history_limit", 1.5, ">= 0"),
    ("backoff_limit", 50, "0 to 20"),
    ("active_deadline_seconds", 10, "at least 30"),
    ("resources", {"requests": {"gpu": "1"}}, "may only set cpu"),
    ("resources", {"limits": {"memory": "lots"}}, "Kubernetes quantities"),
    ("tolerations", [{"operator": "Maybe"}], "operator Equal or Exists"),
    ("node_affinity", {"preferred_terms": [{"weight": 0, "match_expressions": []}]}, "weights 1 to 100"),
    ("priority_class_name", "Not Valid", "PriorityClass name"),
    ("pod_labels", {"bad key!": "x"}, "pod_labels keys"),
    ("labels", {"ok": "v" * 64}, "labels keys"),
    ("log_format", "xml", "log_format must be"),
    ("log_level", "trace", "log_level must be"),
    ("initial_secret_timeout", "five minutes", "duration"),
    ("iam_role_permissions_boundary", "boundary", "permissions_boundary must be"),
    ("mode", "daemonset", "mode must be"),
    ("mode", "Controller", "mode must be"),
    ("ecr_secret_namespaces", ["team-*", "Team-*"], "ecr_secret_namespaces entry"),
    ("exclude_namespaces", ["kube_system"], "exclude_namespaces entry"),
    ("exclude_namespaces", ["x" * 64], "exclude_namespaces entry"),
    ("namespace_selector", "team=a;b", "namespace_selector must be"),
    ("namespace_selector", "a=" + "b" * 1030, "namespace_selector must be"),
    ("listen_port", 80, "1024 to 65535"),
    ("listen_port", 70000, "1024 to 65535"),
    ("listen_port", 8080.5, "1024 to 65535"),
    ("controller_resources", {"limits": {"gpu": "1"}}, "controller_resources.requests"),
    ("monitoring_labels", {"release": "a b"}, "monitoring_labels keys"),
    ("controller_replicas", 0, "controller_replicas must be a whole number from 1 to 10"),
    ("controller_replicas", 11, "controller_replicas must be a whole number from 1 to 10"),
    ("controller_replicas", 1.5, "controller_replicas must be a whole number from 1 to 10"),
    ("service_accounts", ["default", "Default"], "service_accounts entry"),
    ("service_accounts", ["team_a"], "service_accounts entry"),
    ("service_accounts", ["a..b"], "service_accounts entry"),
    ("service_accounts", ["-x"], "service_accounts entry"),
    ("service_accounts", ["team-*"], "service_accounts entry"),
    ("service_accounts", [""], "service_accounts entry"),
    ("service_accounts", ["a" * 254], "service_accounts entry"),
    ("heal_rate", 0, "heal_rate must be a whole number of pods a minute from 1 to 600"),
    ("heal_rate", 601, "heal_rate must be a whole number of pods a minute from 1 to 600"),
    ("heal_rate", 2.5, "heal_rate must be a whole number of pods a minute from 1 to 600"),
]


class VariableValidation(unittest.TestCase):
    """The root module's variables.tf alone (no providers needed): plan with
    good values succeeds, plan with each bad value fails with our message."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = None
        if not dt.terraform():
            return
        cls.ws = dt.TerraformWorkspace()
        cls.tmp = os.path.join(cls.ws.tmp, "variables-only")
        os.makedirs(cls.tmp)
        shutil.copy(os.path.join(dt.TF_ROOT, "variables.tf"), cls.tmp)
        with open(os.path.join(cls.tmp, "outputs.tf"), "w", encoding="utf-8") as fh:
            fh.write('output "schedule" {\n  value = var.schedule\n}\n'
                     'output "mode" {\n  value = var.mode\n}\n')
        cls.init = cls.ws.run(cls.tmp, "init", "-input=false", "-no-color", "-backend=false")

    @classmethod
    def tearDownClass(cls):
        if cls.tmp:
            cls.ws.cleanup()

    def _plan(self, values: dict) -> subprocess.CompletedProcess:
        dt.require_terraform(self)
        self.assertEqual(self.init.returncode, 0, dt.tf_output(self.init))
        fd, path = tempfile.mkstemp(suffix=".tfvars.json", dir=self.tmp)
        with os.fdopen(fd, "w") as fh:
            json.dump(values, fh)
        try:
            return self.ws.run(self.tmp, "plan", "-input=false", "-no-color", "-lock=false",
                               f"-var-file={path}")
        finally:
            os.unlink(path)

    def test_good_values_are_accepted(self):
        proc = self._plan(GOOD)
        self.assertEqual(proc.returncode, 0, dt.tf_output(proc))

    def test_defaults_are_accepted(self):
        required = {k: GOOD[k] for k in ("cluster_name", "oidc_provider", "aws_region")}
        proc = self._plan(required)
        self.assertEqual(proc.returncode, 0, dt.tf_output(proc))
        self.assertIn('schedule = "0 */8 * * *"', proc.stdout)
        self.assertIn('mode     = "cronjob"', proc.stdout)

    def test_boundaries_are_accepted(self):
        for values in ({"controller_replicas": 1}, {"controller_replicas": 10}, {"heal_rate": 1},
                       {"service_accounts": ["*"]}, {"service_accounts": ["a", "a.b-c", "x" * 253]},
                       {"service_accounts": []}):
            with self.subTest(**{k: str(v)[:40] for k, v in values.items()}):
                proc = self._plan(dict(GOOD, **values))
                self.assertEqual(proc.returncode, 0, dt.tf_output(proc))

    def test_globs_pass_the_variable_checks(self):
        # Refused later, in mode cronjob only (see CronJobPrecondition).
        proc = self._plan(dict(GOOD, mode="cronjob", ecr_secret_namespaces=["team-*", "*", "a?c"]))
        self.assertEqual(proc.returncode, 0, dt.tf_output(proc))

    def test_bad_values_are_refused_with_our_message(self):
        for name, value, fragment in BAD:
            with self.subTest(variable=name, value=value):
                proc = self._plan(dict(GOOD, **{name: value}))
                out = re.sub(r"\s+", " ", proc.stdout + proc.stderr)
                self.assertNotEqual(proc.returncode, 0, f"{name}={value!r} was accepted")
                self.assertIn("Invalid value for variable", out, dt.tf_output(proc))
                self.assertIn(fragment, out, dt.tf_output(proc))
                # A condition that errors instead of returning false would show
                # up as a different error (Terraform does not short-circuit).
                errors = re.findall(r"Error: ([^│\n]+)", proc.stderr)
                self.assertTrue(all(e.strip() == "Invalid value for variable" for e in errors),
                                f"{name}: unexpected errors {errors}\n{dt.tf_output(proc)}")


class CronJobPrecondition(unittest.TestCase):
    """The preconditions of kubernetes_cron_job_v1.renewal (globs in
    ecr_secret_namespaces, and heal_pods, need mode = "controller"),
    evaluated by terraform: modules/kubernetes/variables.tf plus an output
    carrying the same preconditions, read from main.tf with hcl2json. No
    provider needed."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = None
        if not dt.terraform():
            return
        cls.ws = dt.TerraformWorkspace()
        cls.tmp = os.path.join(cls.ws.tmp, "precondition")
        os.makedirs(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        if cls.tmp:
            cls.ws.cleanup()

    def setUp(self):
        dt.require_terraform(self)
        dt.require_node_modules(self)
        module = os.path.join(dt.TF_ROOT, "modules", "kubernetes")
        if not os.path.exists(os.path.join(self.tmp, "variables.tf")):
            main = os.path.join(module, "main.tf")
            body = dt.hcl2json(main)[main]["resource"]["kubernetes_cron_job_v1"]["renewal"][0]
            pres = body["lifecycle"][0]["precondition"]
            self.assertEqual(len(pres), 2)
            shutil.copy(os.path.join(module, "variables.tf"), self.tmp)
            with open(os.path.join(self.tmp, "check.tf"), "w", encoding="utf-8") as fh:
                fh.write('output "checked" {\n  value = var.mode\n')
                for pre in pres:
                    condition = pre["condition"]
                    self.assertTrue(condition.startswith("${") and condition.endswith("}"), condition)
                    self.assertNotIn("local.", condition, "the precondition must use variables only")
                    fh.write('\n  precondition {\n'
                             f'    condition     = var.mode != "cronjob" || ({condition[2:-1]})\n'
                             f'    error_message = {json.dumps(pre["error_message"])}\n  }}\n')
                fh.write("}\n")
            init = self.ws.run(self.tmp, "init", "-input=false", "-no-color", "-backend=false")
            self.assertEqual(init.returncode, 0, dt.tf_output(init))

    def plan(self, **values) -> subprocess.CompletedProcess:
        values = dict({"role_arn": "arn:aws:iam::123456789012:role/eks-ecr-token-renew-prod",
                       "aws_region": "eu-west-1",
                       "image_repository": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ecr-renew"}, **values)
        args = [f"-var={k}={json.dumps(v) if not isinstance(v, str) else v}" for k, v in values.items()]
        return self.ws.run(self.tmp, "plan", "-input=false", "-no-color", "-lock=false", *args)

    def test_names_are_fine_in_both_modes(self):
        for mode in ("cronjob", "controller"):
            with self.subTest(mode=mode):
                proc = self.plan(mode=mode, ecr_secret_namespaces=["apps", "batch-jobs"])
                self.assertEqual(proc.returncode, 0, dt.tf_output(proc))

    def test_globs_need_mode_controller(self):
        proc = self.plan(mode="controller", ecr_secret_namespaces=["team-*", "*"])
        self.assertEqual(proc.returncode, 0, dt.tf_output(proc))
        for globs in (["team-*"], ["*"], ["apps", "a?c"]):
            with self.subTest(namespaces=globs):
                proc = self.plan(mode="cronjob", ecr_secret_namespaces=globs)
                self.assertNotEqual(proc.returncode, 0, dt.tf_output(proc))
                out = re.sub(r"\s+", " ", proc.stderr)
                self.assertIn('need mode = "controller"', out, dt.tf_output(proc))

    def test_heal_pods_needs_mode_controller(self):
        proc = self.plan(mode="controller", heal_pods=True, service_accounts=["default"])
        self.assertEqual(proc.returncode, 0, dt.tf_output(proc))
        proc = self.plan(mode="cronjob", heal_pods=False, service_accounts=["default"], heal_rate=5)
        self.assertEqual(proc.returncode, 0, dt.tf_output(proc))
        proc = self.plan(mode="cronjob", heal_pods=True)
        self.assertNotEqual(proc.returncode, 0, dt.tf_output(proc))
        out = re.sub(r"\s+", " ", proc.stderr)
        self.assertIn('heal_pods needs mode = "controller"', out, dt.tf_output(proc))
        self.assertNotIn("Globs in ecr_secret_namespaces", out)


if __name__ == "__main__":
    unittest.main()

"""The IAM part of the module, applied for real against the AWS fake (moto
with IAM enforced, tests/fakes/aws) and then used: ecr-renew assumes the
created role with a service-account token, as it does in the cluster.

    python3 -m unittest tests/deploy/test_iam_moto.py -v

What runs: deploy/terraform/examples/iam-only (which calls modules/iam) is
copied to a temporary directory, given an override file that points the aws
provider's iam/sts/ecr endpoints at the fake and a file creating the IAM OIDC
provider of the fake's issuer (aws_iam_openid_connect_provider, as a cluster
module would), and applied as the fake's `admin` user. The module reads the account id through aws_caller_identity
(sts:GetCallerIdentity against the fake). Then `build/ecr-renew login` runs
with AWS_ROLE_ARN=<the new role> and AWS_WEB_IDENTITY_TOKEN_FILE=<a JWT the
fake's issuer signed>: accepted for system:serviceaccount:kube-system:ecr-renew-sa,
refused (exit 5, AccessDenied) for any other subject or audience.

No secret (keys, tokens, passwords) is printed: only lengths and exit codes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import deploytest as dt  # noqa: E402

ECR_RENEW = os.environ.get("ECR_RENEW_BIN", os.path.join(dt.REPO, "build", "ecr-renew"))
CLUSTER = "moto"
ROLE_NAME = f"eks-ecr-token-renew-{CLUSTER}"
IRSA_SUB = "system:serviceaccount:kube-system:ecr-renew-sa"
PULL_ACTIONS = sorted(["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"])

# The IAM OIDC provider of the fake's issuer, made by Terraform in the same
# root (the scenario only declares the issuer), as a cluster module would.
OIDC_PROVIDER = """\
# Written by tests/deploy/test_iam_moto.py.
resource "aws_iam_openid_connect_provider" "cluster" {{
  url             = "{issuer}"
  client_id_list  = ["sts.amazonaws.com"]
  thumbprint_list = ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"]
}}

output "oidc_provider_arn" {{
  value = aws_iam_openid_connect_provider.cluster.arn
}}
"""

OVERRIDE = """\
# Written by tests/deploy/test_iam_moto.py: the AWS fake instead of AWS.
provider "aws" {{
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true

  endpoints {{
    iam = "{endpoint}"
    sts = "{endpoint}"
    ecr = "{endpoint}"
  }}
}}
"""


def redact(text: str) -> str:
    """Drop anything that looks like a credential or token from output."""
    text = re.sub(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_.-]+", "<jwt>", text)
    text = re.sub(r"\b(A[SK]IA[A-Z0-9]{12,})\b", "<akid>", text)
    return re.sub(r"[A-Za-z0-9+/=]{120,}", "<long-secret>", text)


class IamModuleAgainstAwsFake(unittest.TestCase):
    aws = None
    ws = None

    @classmethod
    def setUpClass(cls):
        if not dt.terraform():
            raise unittest.SkipTest("terraform is not installed")
        if not os.path.isdir(os.path.join(dt.TF_PLUGIN_DIR, "registry.terraform.io", "hashicorp", "aws")):
            raise unittest.SkipTest(f"no hashicorp/aws provider in {dt.TF_PLUGIN_DIR}")
        for mod in ("moto", "boto3", "cryptography"):
            if not dt.python_module_available(mod):
                raise unittest.SkipTest(f"python module {mod} is missing (the AWS fake needs it)")
        harness = dt.load_harness("aws")
        cls.harness = harness
        scenario = harness.load_default_scenario()
        for issuer in scenario["oidc_issuers"]:
            issuer["register_provider"] = False
        cls.aws = harness.FakeAws(scenario)
        try:
            cls.aws.start()
            cls.ws = dt.TerraformWorkspace()
            cls.workdir = cls.ws.dir("examples", "iam-only")
            with open(os.path.join(cls.workdir, "zz_fake_aws_override.tf"), "w", encoding="utf-8") as fh:
                fh.write(OVERRIDE.format(endpoint=cls.aws.endpoint))
            with open(os.path.join(cls.workdir, "zz_fake_oidc_provider.tf"), "w", encoding="utf-8") as fh:
                fh.write(OIDC_PROVIDER.format(issuer=cls.aws.issuer()["issuer"]))
            akid, secret = cls.aws.keys("admin")
            cls.tf_env = cls.ws.env({
                "AWS_ACCESS_KEY_ID": akid,
                "AWS_SECRET_ACCESS_KEY": secret,
                "AWS_REGION": cls.aws.region,
                "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_CONFIG_FILE": os.path.join(cls.ws.tmp, "no-aws-config"),
                "AWS_SHARED_CREDENTIALS_FILE": os.path.join(cls.ws.tmp, "no-aws-credentials"),
            })
            cls.issuer = cls.aws.issuer()
            init = cls.ws.init(cls.workdir, env=cls.tf_env)
            if init.returncode != 0:
                raise AssertionError(f"terraform init failed:\n{redact(dt.tf_output(init))}")
            cls.aws.clear_requests()
            cls.first_apply = cls.apply([])
            cls.role_arn = cls.terraform_output("role_arn")
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.ws:
            cls.ws.cleanup()
            cls.ws = None
        if cls.aws:
            cls.aws.cleanup()
            cls.aws = None

    # -- helpers --------------------------------------------------------------

    @classmethod
    def apply(cls, repository_arns: list[str]) -> subprocess.CompletedProcess:
        proc = cls.ws.run(cls.workdir, "apply", "-auto-approve", "-input=false", "-no-color",
                          "-var", f"cluster_name={CLUSTER}",
                          "-var", f"oidc_provider={cls.issuer['issuer']}",
                          "-var", f"aws_region={cls.aws.region}",
                          "-var", f"ecr_repository_arns={json.dumps(repository_arns)}",
                          env=cls.tf_env)
        if proc.returncode != 0:
            raise AssertionError(f"terraform apply failed:\n{redact(dt.tf_output(proc))}\n"
                                 f"fake stderr:\n{cls.aws.stderr_tail()}")
        return proc

    @classmethod
    def terraform_output(cls, name: str):
        proc = cls.ws.run(cls.workdir, "output", "-json", name, env=cls.tf_env)
        if proc.returncode != 0:
            raise AssertionError(redact(dt.tf_output(proc)))
        return json.loads(proc.stdout)

    def output(self, name: str):
        return self.terraform_output(name)

    def iam(self):
        return self.aws.client("iam", user="admin")

    def role_policy(self) -> dict:
        doc = self.iam().get_role_policy(RoleName=ROLE_NAME, PolicyName="ecr-token-renew-policy")["PolicyDocument"]
        return json.loads(doc) if isinstance(doc, str) else doc

    def login(self, **mint) -> subprocess.CompletedProcess:
        if not os.access(ECR_RENEW, os.X_OK):
            self.skipTest(f"{ECR_RENEW} is not built (cmake --build build), or set ECR_RENEW_BIN")
        token_file = self.aws.write_token_file(**mint)
        env = self.aws.env(web_identity=(self.role_arn, token_file))
        return subprocess.run([ECR_RENEW, "login"], env=env, capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)

    # -- the role -------------------------------------------------------------

    def test_role_name_arn_and_tags(self):
        arn = self.output("role_arn")
        self.assertEqual(arn, f"arn:aws:iam::{self.aws.account_id}:role/{ROLE_NAME}")
        role = self.iam().get_role(RoleName=ROLE_NAME)["Role"]
        self.assertEqual(role["Arn"], arn)
        tags = {t["Key"]: t["Value"] for t in self.iam().list_role_tags(RoleName=ROLE_NAME)["Tags"]}
        self.assertEqual(tags.get("Name"), ROLE_NAME)

    def test_account_id_comes_from_caller_identity(self):
        # skip_requesting_account_id is set, so the provider itself never asks;
        # the module's aws_caller_identity must, and the fake must answer it.
        calls = [r for r in self.aws.requests() if r.get("action") == "GetCallerIdentity"]
        self.assertTrue(calls, "the module did not call sts:GetCallerIdentity")
        self.assertTrue(all(r.get("status") == 200 for r in calls), calls)
        self.assertIn(f":{self.aws.account_id}:", self.output("role_arn"))

    def test_trust_policy_names_exactly_the_service_account(self):
        doc = self.iam().get_role(RoleName=ROLE_NAME)["Role"]["AssumeRolePolicyDocument"]
        doc = json.loads(doc) if isinstance(doc, str) else doc
        issuer = self.issuer["issuer"].replace("https://", "")
        self.assertEqual(len(doc["Statement"]), 1)
        st = doc["Statement"][0]
        self.assertEqual(st["Effect"], "Allow")
        self.assertEqual(st["Action"], "sts:AssumeRoleWithWebIdentity")
        # The ARN the module builds (partition, caller's account, issuer) is the
        # one IAM gave the provider Terraform created.
        self.assertEqual(st["Principal"], {"Federated": self.output("oidc_provider_arn")})
        self.assertEqual(st["Principal"]["Federated"],
                         f"arn:aws:iam::{self.aws.account_id}:oidc-provider/{issuer}")
        self.assertEqual(st["Condition"], {"StringEquals": {f"{issuer}:sub": IRSA_SUB,
                                                            f"{issuer}:aud": "sts.amazonaws.com"}})

    def test_empty_repository_list_gives_no_empty_resource_statement(self):
        for source, doc in (("IAM", self.role_policy()), ("terraform output", json.loads(self.output("policy_json")))):
            with self.subTest(source=source):
                statements = doc["Statement"]
                for st in statements:
                    resources = st.get("Resource")
                    self.assertTrue(resources, f"statement with empty Resource: {st}")
                self.assertEqual(len(statements), 1, statements)
                self.assertEqual(statements[0]["Action"], "ecr:GetAuthorizationToken")
                self.assertEqual(statements[0]["Resource"], "*")

    def test_zz_repository_arns_scope_only_the_pull_actions(self):
        # Runs last (name): changes the policy and puts it back.
        arns = [f"arn:aws:ecr:{self.aws.region}:{self.aws.account_id}:repository/app",
                f"arn:aws:ecr:{self.aws.region}:{self.aws.account_id}:repository/team/*"]
        try:
            self.apply(arns)
            statements = {st["Sid"]: st for st in self.role_policy()["Statement"]}
            self.assertEqual(set(statements), {"GetAuthorizationToken", "PullListedRepositories"})
            self.assertEqual(statements["GetAuthorizationToken"]["Resource"], "*")
            self.assertEqual(statements["GetAuthorizationToken"]["Action"], "ecr:GetAuthorizationToken")
            pull = statements["PullListedRepositories"]
            self.assertEqual(sorted(pull["Action"]), PULL_ACTIONS)
            self.assertEqual(sorted(pull["Resource"]), sorted(arns))
            self.assertEqual(self.login().returncode, 0)
        finally:
            self.apply([])
        self.assertEqual([st["Sid"] for st in self.role_policy()["Statement"]], ["GetAuthorizationToken"])

    # -- the role in use: ecr-renew with a web-identity token -------------------

    def test_login_with_the_ecr_renew_service_account_token(self):
        self.aws.clear_requests()
        proc = self.login(sub=IRSA_SUB)
        self.assertEqual(proc.returncode, 0, f"ecr-renew login failed: {redact(proc.stderr)[-2000:]}")
        password = proc.stdout.strip()
        self.assertTrue(len(password) > 100, f"expected an ECR password, got {len(password)} characters")
        log = self.aws.requests()
        assume = [r for r in log if r.get("action") == "AssumeRoleWithWebIdentity"]
        token = [r for r in log if r.get("action") == "GetAuthorizationToken"]
        self.assertTrue(assume and assume[-1].get("status") == 200, redact(json.dumps(assume)))
        self.assertTrue(token and token[-1].get("status") == 200, redact(json.dumps(token)))
        self.assertIn(f"assumed-role/{ROLE_NAME}/", token[-1].get("principal") or "")

    def test_login_with_another_service_account_token_is_refused(self):
        self.aws.clear_requests()
        proc = self.login(sub="system:serviceaccount:default:other")
        self.assertEqual(proc.returncode, 5, f"expected exit 5 (AWS refused), got {proc.returncode}: "
                                             f"{redact(proc.stderr)[-2000:]}")
        self.assertEqual(proc.stdout, "")
        self.assertIn("AccessDenied", proc.stderr)
        self.assertFalse([r for r in self.aws.requests() if r.get("action") == "GetAuthorizationToken"],
                         "ECR was called although the role could not be assumed")

    def test_login_with_the_wrong_audience_is_refused(self):
        proc = self.login(sub=IRSA_SUB, aud="not-sts")
        self.assertEqual(proc.returncode, 5, redact(proc.stderr)[-2000:])
        self.assertEqual(proc.stdout, "")


if __name__ == "__main__":
    unittest.main()

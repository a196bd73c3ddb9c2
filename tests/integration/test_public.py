"""--public (ECR Public's credentials beside the private ones) and
--registry-host NAME=HOST (an extra name with a registry's credentials),
for docker-config and sync, against the AWS stand-in with IAM enforced.

The stand-in answers ECR Public's GetAuthorizationToken signed as
ecr-public in us-east-1, and wants both ecr-public:GetAuthorizationToken
and sts:GetServiceBearerToken, as AWS does.
"""

import base64
import json

from tests.fakes.kube import harness as kube_harness
from tests.integration.common import EXIT_AWS, EXIT_OK, EXIT_USAGE, ToolTestCase

PUBLIC = "public.ecr.aws"
PUBLIC_DUALSTACK = "ecr-public.aws.com"


class PublicTestCase(ToolTestCase):
    @classmethod
    def setUpClass(cls):
        cls.start_aws()

    def setUp(self):
        super().setUp()
        self.aws.clear_faults()
        for user in ("ecr-reader", "ecr-public-reader", "ecr-public-half"):
            self.remember_secret(self.aws.keys(user)[1])
        self.remember_secret(self.aws.ecr_password(), self.aws.ecr_public_password())

    def docker_config(self, *args, user="ecr-public-reader", **extra):
        return self.run_tool(["docker-config"] + list(args), self.aws.env(user=user, extra=extra),
                             stdout_may_hold_secrets=True)

    def auths(self, proc):
        return json.loads(proc.stdout)["auths"]


class DockerConfigPublicTest(PublicTestCase):
    def test_public__both_passwords_each_under_its_host(self):
        proc = self.docker_config("--public")
        self.assertExit(proc, EXIT_OK)
        auths = self.auths(proc)
        private = self.aws.registry_host()
        self.assertEqual(sorted(auths), sorted([private, PUBLIC]))
        self.assertTrue(auths[PUBLIC]["password"] == self.aws.ecr_public_password())
        self.assertTrue(auths[private]["password"] == self.aws.ecr_password())
        self.assertEqual(base64.b64decode(auths[PUBLIC]["auth"]).decode(),
                         "AWS:" + self.aws.ecr_public_password())
        signed = [r for r in self.aws.requests() if r.get("service") == "ecr-public"]
        self.assertEqual(len(signed), 1)

    def test_public_dualstack__second_host(self):
        proc = self.docker_config("--public", AWS_USE_DUALSTACK_ENDPOINT="true")
        self.assertExit(proc, EXIT_OK)
        self.assertIn(PUBLIC_DUALSTACK, self.auths(proc))
        self.assertIn(PUBLIC, self.auths(proc))

    def test_public_without_sts_bearer_permission__exit_5_naming_both(self):
        proc = self.docker_config("--public", user="ecr-public-half")
        self.assertExit(proc, EXIT_AWS)
        self.assertIn("ECR Public GetAuthorizationToken", proc.stderr)
        self.assertIn("sts:GetServiceBearerToken", proc.stderr)
        self.assertEqual(proc.stdout, "")

    def test_public_in_china__refused_before_any_call(self):
        proc = self.docker_config("--public", "--region", "cn-north-1")
        self.assertExit(proc, EXIT_USAGE)
        self.assertIn("ECR Public exists only in the aws partition", proc.stderr)
        self.assertIn("aws-cn", proc.stderr)

    def test_registry_host__alias_gets_the_same_credentials(self):
        private = self.aws.registry_host()
        proc = self.docker_config("--registry-host", "ecr.internal.example=" + private,
                                  "--registry-host", "mirror.example:5000")
        self.assertExit(proc, EXIT_OK)
        auths = self.auths(proc)
        self.assertEqual(auths["ecr.internal.example"], auths[private])
        self.assertEqual(auths["mirror.example:5000"], auths[private])

    def test_registry_host__from_the_environment_and_bad_values(self):
        private = self.aws.registry_host()
        proc = self.docker_config(ECR_RENEW_REGISTRY_HOSTS="vpce.example=" + private)
        self.assertExit(proc, EXIT_OK)
        self.assertIn("vpce.example", self.auths(proc))
        proc = self.docker_config("--registry-host", "x.example=999999999999.dkr.ecr.us-east-1.amazonaws.com")
        self.assertExit(proc, EXIT_USAGE)
        self.assertIn("not one of the registries configured", proc.stderr)
        proc = self.docker_config("--registry-host", "not a host")
        self.assertExit(proc, EXIT_USAGE)
        self.assertIn("--registry-host", proc.stderr)


class SyncPublicTest(PublicTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cfg = kube_harness.default_config()
        cfg["namespaces"] += ["runtime"]
        cls.start_kube(cfg)

    def test_sync_public_and_alias__in_the_secret_and_its_annotation(self):
        env = self.aws.env(user="ecr-public-reader")
        env["KUBECONFIG"] = self.kube.write_kubeconfig(user=kube_harness.SA_USER)
        self.remember_secret(self.kube.token_for(kube_harness.SA_USER))
        proc = self.run_tool(["sync", "--public", "--registry-host", "ecr.internal.example"], env)
        self.assertExit(proc, EXIT_OK)
        out = self.kube.kubectl("get", "secret", "ecr-registry-secret", "-n", "runtime", "-o", "json")
        secret = json.loads(out.stdout)
        auths = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))["auths"]
        self.assertEqual(sorted(auths), sorted([self.aws.registry_host(), PUBLIC, "ecr.internal.example"]))
        self.assertEqual(secret["metadata"]["annotations"]["ecr-renew/registries"].split(","),
                         [self.aws.registry_host(), PUBLIC, "ecr.internal.example"])

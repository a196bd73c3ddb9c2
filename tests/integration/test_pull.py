"""A real client pulls with the Secret ecr-renew wrote.

skopeo (containers/image, the library CRI-O uses) pulls from Debian's
docker-registry serving the ECR registry host name over TLS with Basic
auth (user AWS, the current ECR password), using exactly the
.dockerconfigjson read back from the Kubernetes API stand-in with kubectl.
After the password rotates, the stale file is refused and a new sync makes
pulling work again.
"""

import base64
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from tests.fakes.kube import harness as kube_harness
from tests.harness.registry import Registry
from tests.integration.common import EXIT_OK, ToolTestCase, aws_harness


def have_tools():
    return all(shutil.which(t) for t in ("skopeo", "docker-registry", "htpasswd", "unshare",
                                         "nsenter")) and os.geteuid() == 0


@unittest.skipUnless(have_tools(), "needs root, skopeo, docker-registry, htpasswd, unshare "
                                   "(scripts/deps installs them)")
class PullWithSecretTest(ToolTestCase):
    def setUp(self):
        super().setUp()
        self.aws = aws_harness.FakeAws().start()
        self.addCleanup(self.aws.cleanup)
        self.addCleanup(self.aws.stop)
        self.kube = kube_harness.FakeKube().start()
        self.addCleanup(self.kube.stop)
        self.tmp = tempfile.mkdtemp(prefix="ecr-renew-pull-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.host = self.aws.registry_host()
        self.remember_secret(self.aws.keys("ecr-reader")[1],
                             self.kube.token_for(kube_harness.SA_USER))

    def aws_password(self):
        ecr = self.aws.client("ecr", user="ecr-reader")
        token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
        password = base64.b64decode(token).decode().split(":", 1)[1]
        self.remember_secret(password)
        return password

    def sync_and_read_authfile(self, name):
        env = self.aws.env(user="ecr-reader")
        env["KUBECONFIG"] = self.kube.write_kubeconfig(user=kube_harness.SA_USER)
        self.assertExit(self.run_tool(["sync", "-n", "default"], env), EXIT_OK)
        out = self.kube.kubectl("get", "secret", "ecr-registry-secret", "-n", "default",
                                "-o", "jsonpath={.data.\\.dockerconfigjson}")
        self.assertEqual(out.returncode, 0, out.stderr)
        doc = base64.b64decode(out.stdout)
        path = os.path.join(self.tmp, name)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
            f.write(doc)
        return path, json.loads(doc)["auths"]

    def test_skopeo_pulls_with_the_secret_and_is_refused_with_a_stale_one(self):
        password = self.aws_password()
        authfile, auths = self.sync_and_read_authfile("auth-1.json")
        # The key is the bare registry host, which the kubelet, CRI-O and
        # containerd all match; the full password is checked here because
        # the registry's bcrypt compares only its first 72 bytes.
        self.assertEqual(list(auths), [self.host])
        self.assertTrue(auths[self.host]["password"] == password, "full password matches AWS's")
        self.assertGreater(len(password), 72)

        with Registry(self.host, "AWS", password) as registry:
            image = registry.push_image("team/app", "v1")
            pulled = registry.pull(image, authfile)
            self.assertEqual(pulled.returncode, 0, "pull with the Secret failed: " + pulled.stderr[-300:])
            self.assertEqual(json.loads(pulled.stdout)["Name"], self.host + "/team/app")
            layout = os.path.join(self.tmp, "pulled")
            copied = registry.copy_out(image, authfile, layout)
            self.assertEqual(copied.returncode, 0, copied.stderr[-300:])
            self.assertTrue(os.path.exists(os.path.join(layout, "index.json")))

            # ECR rotates the password; the registry now wants the new one.
            self.aws.rotate_ecr()
            new_password = self.aws_password()
            self.assertFalse(new_password[:72] == password[:72])
            registry.set_password(new_password)
            stale = registry.pull(image, authfile)
            self.assertNotEqual(stale.returncode, 0, "a stale password must be refused")
            self.assertIn("unauthorized", stale.stderr.lower())

            fresh_file, fresh = self.sync_and_read_authfile("auth-2.json")
            self.assertTrue(fresh[self.host]["password"] == new_password)
            again = registry.pull(image, fresh_file)
            self.assertEqual(again.returncode, 0, "pull after renewal failed: " + again.stderr[-300:])

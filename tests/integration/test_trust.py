"""Which CAs AWS calls trust: AWS_CA_BUNDLE, else SSL_CERT_FILE, else
SSL_CERT_DIR (a hashed directory), else the system's; each replaces the
default store rather than adding to it. An HTTPS endpoint with its own
CA (the hostile stand-in's, answering ECR normally) plays a proxy or a
private endpoint with a corporate CA.
"""

import os
import shutil
import subprocess
import tempfile

from tests.integration.common import EXIT_NETWORK, EXIT_OK, ToolTestCase
from tests.integration.hostile_common import HostileServer, require_binary


class TrustTest(ToolTestCase):
    @classmethod
    def setUpClass(cls):
        require_binary(cls)
        cls.hs = HostileServer().start()

    @classmethod
    def tearDownClass(cls):
        cls.hs.stop()

    def setUp(self):
        super().setUp()
        self.hs.reset()
        self.tmp = tempfile.mkdtemp(prefix="ecr-renew-trust-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.remember_secret(self.hs.password, self.hs.static_key[1])

    def env(self, **extra):
        env = self.hs.env("static")
        env["AWS_ENDPOINT_URL_ECR"] = self.hs.kube_url  # the HTTPS port
        for k in ("AWS_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"):
            env.pop(k, None)
        env.update(extra)
        return env

    def login(self, **extra):
        return self.run_tool(["login", "--timeout", "20s"], self.env(**extra), stdout_may_hold_secrets=True)

    def hashed_dir(self, *pems):
        d = os.path.join(self.tmp, "certs-%d" % len(os.listdir(self.tmp)))
        os.mkdir(d)
        for i, pem in enumerate(pems):
            shutil.copy(pem, os.path.join(d, "ca-%d.pem" % i))
        subprocess.run(["openssl", "rehash", d], check=True, capture_output=True)
        return d

    def other_ca(self):
        path = os.path.join(self.tmp, "other-ca.pem")
        key = os.path.join(self.tmp, "other-ca.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                        "-out", path, "-days", "1", "-subj", "/CN=not-the-one"], check=True,
                       capture_output=True)
        return path

    def test_system_store_alone__refuses_the_private_ca(self):
        proc = self.login()
        self.assertExit(proc, EXIT_NETWORK)
        self.assertRegex(proc.stderr.lower(), "certificate|ssl|tls")

    def test_aws_ca_bundle__trusted(self):
        proc = self.login(AWS_CA_BUNDLE=self.hs.ca_file)
        self.assertExit(proc, EXIT_OK)
        self.assertTrue(proc.stdout.strip() == self.hs.password, "the password came through")

    def test_ssl_cert_file_and_dir__trusted(self):
        self.assertExit(self.login(SSL_CERT_FILE=self.hs.ca_file), EXIT_OK)
        self.assertExit(self.login(SSL_CERT_DIR=self.hashed_dir(self.hs.ca_file)), EXIT_OK)

    def test_aws_ca_bundle_wins_and_replaces_the_store(self):
        # AWS_CA_BUNDLE names another CA: the right one in SSL_CERT_FILE
        # does not help, since AWS_CA_BUNDLE wins.
        proc = self.login(AWS_CA_BUNDLE=self.other_ca(), SSL_CERT_FILE=self.hs.ca_file)
        self.assertExit(proc, EXIT_NETWORK)
        # SSL_CERT_FILE wins over SSL_CERT_DIR the same way.
        proc = self.login(SSL_CERT_FILE=self.other_ca(), SSL_CERT_DIR=self.hashed_dir(self.hs.ca_file))
        self.assertExit(proc, EXIT_NETWORK)

    def test_missing_bundle__says_which_file(self):
        missing = os.path.join(self.tmp, "no-such-ca.pem")
        proc = self.login(AWS_CA_BUNDLE=missing)
        self.assertNotEqual(proc.returncode, EXIT_OK)
        self.assertIn("no-such-ca.pem", proc.stderr)



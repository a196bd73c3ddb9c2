"""Shared plumbing for the integration tests.

The tests run the real ecr-renew binary (ECR_RENEW_BIN, default
build/ecr-renew) against local stand-ins: moto with IAM enforced
(tests/fakes/aws), the Kubernetes API stand-in (tests/fakes/kube), strict
metadata stand-ins, and a real registry (tests/harness/registry.py).

Every run of the binary goes through ToolTestCase.run_tool, which keeps
its output; at the end of each test, tearDown checks that no secret the
test knows of (secret keys, session tokens, web identity tokens, registry
passwords, container tokens) and no token-shaped string appears in any
stderr, nor anywhere in stdout unless the command's job is to print it.
"""

import os
import re
import subprocess
import unittest

from tests.fakes.aws import harness as aws_harness  # noqa: F401 (re-export)
from tests.fakes.kube import harness as kube_harness

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("ECR_RENEW_BIN", os.path.join(ROOT, "build", "ecr-renew"))

# Base64/base64url runs this long, mixing upper case, lower case and
# digits, are credentials, not words, paths or host names.
TOKEN_SHAPED = re.compile(r"(?=[A-Za-z0-9+/=_-]*[A-Z])(?=[A-Za-z0-9+/=_-]*[a-z])"
                          r"(?=[A-Za-z0-9+/=_-]*[0-9])[A-Za-z0-9+/=_-]{40,}")

# Exit statuses (README "Exit status").
EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_CONFIG = 0, 1, 2, 3
EXIT_NO_CREDS, EXIT_AWS, EXIT_NETWORK, EXIT_KUBE = 4, 5, 6, 7


def require_binary(testcase):
    if not os.access(BIN, os.X_OK):
        raise unittest.SkipTest("ecr-renew binary not built at %s (run scripts/test)" % BIN)


class ToolTestCase(unittest.TestCase):
    """Runs ecr-renew and guards every run against leaked secrets."""

    def setUp(self):
        require_binary(self)
        self._runs = []
        self._secrets = set()

    @classmethod
    def start_aws(cls):
        """cls.aws: the class's own AWS stand-in, stopped and its files
        removed after the class's last test, or when setUpClass fails."""
        cls.aws = aws_harness.FakeAws().start()
        cls.addClassCleanup(cls.aws.cleanup)

    @classmethod
    def start_kube(cls, config=None):
        """cls.kube: the class's own API stand-in, stopped the same way
        (before an AWS stand-in started earlier)."""
        cls.kube = kube_harness.FakeKube(config).start()
        cls.addClassCleanup(cls.kube.stop)

    def remember_secret(self, *values):
        """Marks values that must never appear in stderr (or stray stdout)."""
        for v in values:
            if v:
                self._secrets.add(v)

    def run_tool(self, args, env, stdout_may_hold_secrets=False, timeout=120, **kw):
        proc = subprocess.run([BIN] + list(args), env=env, capture_output=True,
                              text=True, timeout=timeout, **kw)
        self._runs.append((args, proc, stdout_may_hold_secrets))
        return proc

    def tearDown(self):
        for args, proc, stdout_ok in getattr(self, "_runs", []):
            streams = [("stderr", proc.stderr)]
            if not stdout_ok:
                streams.append(("stdout", proc.stdout))
            for name, text in streams:
                for secret in self._secrets:
                    # Compare without printing: a failure must not leak it.
                    self.assertFalse(secret in text,
                                     "a secret value appeared in %s of %s" % (name, args[:1]))
                shaped = TOKEN_SHAPED.findall(text)
                self.assertEqual(shaped and "%d token-shaped strings" % len(shaped) or "", "",
                                 "token-shaped text in %s of %s" % (name, args[:1]))

    def assertExit(self, proc, status, msg=None):
        if proc.returncode != status:
            self.fail("%sexpected exit %d, got %d; stderr:\n%s" % (
                (msg + ": ") if msg else "", status, proc.returncode,
                TOKEN_SHAPED.sub("<redacted>", proc.stderr)[-2000:]))

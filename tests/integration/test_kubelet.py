"""ecr-renew as the kubelet's image credential provider, against the AWS
stand-in with IAM enforced.

The binary runs both as `ecr-renew kubelet-credential-provider` and
through a symbolic link named `ecr-credential-provider`, the name a
CredentialProviderConfig gives. Requests are the ones the kubelet writes
(kind first, a newline at the end; REFERENCE-2 §5.1), also with the keys
in the other order, in both API versions. Responses are decoded the way
the kubelet does it (serializer.EnableStrict): exactly the fields it
knows, no duplicate, apiVersion and kind its own, cacheDuration a Go
duration. Any other field fails the test, as it would fail the pull.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile

from tests.integration.common import BIN, EXIT_AWS, EXIT_OK, EXIT_USAGE, ToolTestCase, aws_harness

V1 = "credentialprovider.kubelet.k8s.io/v1"
V1BETA1 = "credentialprovider.kubelet.k8s.io/v1beta1"
ROLE_ANNOTATION = "eks.amazonaws.com/ecr-role-arn"
RESPONSE_FIELDS = {"kind", "apiVersion", "cacheKeyType", "cacheDuration", "auth"}
AUTH_FIELDS = {"username", "password"}

# time.ParseDuration's grammar, which metav1.Duration uses to decode.
GO_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
GO_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3,
                   "s": 1, "m": 60, "h": 3600}


def go_duration_seconds(text):
    """Seconds in a Go duration string; ValueError where Go would fail."""
    if text == "0":
        return 0.0
    pos, total = 0, 0.0
    while pos < len(text):
        m = GO_DURATION_PART.match(text, pos)
        if not m:
            raise ValueError("not a Go duration: %r" % text)
        total += float(m.group(1)) * GO_UNIT_SECONDS[m.group(2)]
        pos = m.end()
    if pos == 0:
        raise ValueError("empty duration")
    return total


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate field in %r" % sorted(keys))
    return dict(pairs)


def request(image, version=V1, order="kubelet", token=None, annotations=None):
    """A CredentialProviderRequest as the kubelet encodes it, or with the
    keys reversed."""
    fields = [("kind", "CredentialProviderRequest"), ("apiVersion", version), ("image", image)]
    if token is not None:
        fields.append(("serviceAccountToken", token))
    if annotations is not None:
        fields.append(("serviceAccountAnnotations", annotations))
    if order == "reversed":
        fields.reverse()
    return json.dumps(dict(fields), separators=(",", ":")) + "\n"


class KubeletTestCase(ToolTestCase):
    @classmethod
    def setUpClass(cls):
        cls.start_aws()
        cls.bindir = tempfile.mkdtemp(prefix="ecr-renew-kubelet-")
        cls.addClassCleanup(shutil.rmtree, cls.bindir, True)
        cls.dropin = os.path.join(cls.bindir, "ecr-credential-provider")
        os.symlink(os.path.abspath(BIN), cls.dropin)

    def setUp(self):
        super().setUp()
        self.aws.configure_ecr(lifetime_seconds=43200)
        self.aws.clear_requests()
        self.aws.clear_faults()
        for user in ("ecr-reader", "ecr-public-reader", "no-perms", "admin"):
            self.remember_secret(self.aws.keys(user)[1])
        self.remember_secret(self.aws.ecr_password(), self.aws.ecr_password(region="eu-west-1"),
                             self.aws.ecr_public_password())
        self.host = self.aws.registry_host()
        self.image = self.host + "/team/app:v1"

    # -- running the provider ---------------------------------------------
    def provide(self, body, env, via="command", args=()):
        """Runs the provider as the kubelet does: the request on stdin."""
        argv = ([self.dropin] if via == "dropin" else [BIN, "kubelet-credential-provider"]) + list(args)
        proc = subprocess.run(argv, input=body, env=env, capture_output=True, text=True, timeout=90)
        # stdout carries the password by design; stderr is still checked.
        self._runs.append(([via], proc, True))
        return proc

    def node_env(self, user="ecr-reader", **extra):
        return self.aws.env(user=user, extra=extra)

    def decode(self, proc, version=V1):
        """The response, decoded as strictly as the kubelet decodes it."""
        self.assertExit(proc, EXIT_OK)
        self.assertTrue(proc.stdout.endswith("}\n"), "one JSON document and a newline")
        resp = json.loads(proc.stdout, object_pairs_hook=no_duplicates)
        self.assertEqual(set(resp), RESPONSE_FIELDS, "exactly the fields the kubelet knows")
        self.assertEqual(resp["kind"], "CredentialProviderResponse")
        self.assertEqual(resp["apiVersion"], version)
        self.assertEqual(resp["cacheKeyType"], "Registry")
        self.assertIsInstance(resp["cacheDuration"], str)
        go_duration_seconds(resp["cacheDuration"])
        self.assertIsInstance(resp["auth"], dict)
        for key, entry in resp["auth"].items():
            self.assertEqual(set(entry), AUTH_FIELDS, "auth[%s] has only username and password" % key)
            self.assertTrue(all(isinstance(v, str) for v in entry.values()))
        self.assertEqual(proc.stderr, "", "nothing on stderr at the default log level")
        return resp

    def assertRefused(self, proc, status, *words):
        self.assertExit(proc, status)
        self.assertEqual(proc.stdout, "", "nothing on stdout when refusing")
        for w in words:
            self.assertIn(w, proc.stderr)

    def ecr_calls(self):
        return [r for r in self.aws.requests() if r["action"] == "GetAuthorizationToken"]

    def sts_calls(self):
        return [r for r in self.aws.requests() if r["action"] == "AssumeRoleWithWebIdentity"]

    def auth_of(self, resp, key):
        self.assertEqual(list(resp["auth"]), [key])
        return resp["auth"][key]


class NodeCredentialsTest(KubeletTestCase):
    def test_kubelet_request__node_keys__token_of_the_image_registry(self):
        proc = self.provide(request(self.image), self.node_env())
        resp = self.decode(proc)
        auth = self.auth_of(resp, self.host)
        self.assertEqual(auth["username"], "AWS")
        self.assertTrue(auth["password"] == self.aws.ecr_password())
        # 12 hours of token: half of it, in whole seconds.
        self.assertIn(go_duration_seconds(resp["cacheDuration"]), (21599, 21600))
        calls = self.ecr_calls()
        self.assertEqual(len(calls), 1)
        self.assertEqual(calls[0]["region"], "us-east-1")
        self.assertEqual(calls[0]["params"].get("registryIds"), [self.aws.account_id])
        self.assertTrue(calls[0]["principal"].endswith(":user/ecr-reader"))

    def test_both_versions_both_key_orders__through_both_names(self):
        for version in (V1, V1BETA1):
            for order in ("kubelet", "reversed"):
                for via in ("command", "dropin"):
                    with self.subTest(version=version, order=order, via=via):
                        body = request(self.image, version=version, order=order)
                        resp = self.decode(self.provide(body, self.node_env(), via=via), version)
                        self.assertTrue(self.auth_of(resp, self.host)["password"]
                                        == self.aws.ecr_password())

    def test_region_and_port__from_the_image_host(self):
        host = self.aws.registry_host(region="eu-west-1")
        proc = self.provide(request(host + ":443/app@sha256:" + "ab" * 32),
                            self.node_env())  # AWS_REGION says us-east-1
        auth = self.auth_of(self.decode(proc), host + ":443")
        self.assertTrue(auth["password"] == self.aws.ecr_password(region="eu-west-1"))
        self.assertEqual([c["region"] for c in self.ecr_calls()], ["eu-west-1"])

    def test_cache_duration__half_the_token_life(self):
        self.aws.configure_ecr(lifetime_seconds=20)
        resp = self.decode(self.provide(request(self.image), self.node_env()))
        self.assertIn(resp["cacheDuration"], ("10s", "9s"))
        self.aws.configure_ecr(lifetime_seconds=3 * 3600)
        resp = self.decode(self.provide(request(self.image), self.node_env()))
        self.assertIn(resp["cacheDuration"], ("1h30m0s", "1h29m59s"))

    def test_token_about_to_expire__refused_never_returned(self):
        for lifetime in (1, 5):
            with self.subTest(lifetime=lifetime):
                self.aws.configure_ecr(lifetime_seconds=lifetime)
                proc = self.provide(request(self.image), self.node_env())
                self.assertRefused(proc, EXIT_AWS, self.host, "refusing it")

    def test_aws_refuses__nonzero_and_nothing_on_stdout(self):
        proc = self.provide(request(self.image), self.node_env(user="no-perms"))
        self.assertRefused(proc, EXIT_AWS, "GetAuthorizationToken", "AccessDenied")

    def test_aws_unreachable__fails_within_the_timeout(self):
        env = self.node_env(AWS_ENDPOINT_URL="http://127.0.0.1:9")
        proc = self.provide(request(self.image), env, args=["--timeout", "5s"])
        self.assertNotEqual(proc.returncode, EXIT_OK)
        self.assertEqual(proc.stdout, "")


class ServiceAccountTest(KubeletTestCase):
    """The per-ServiceAccount role: scenario role ecr-renew-irsa trusts the
    stand-in's OIDC issuer for system:serviceaccount:kube-system:ecr-renew-sa."""

    def sa_request(self, token, role=None, version=V1):
        annotations = {"other.example/x": "y"}
        if role:
            annotations[ROLE_ANNOTATION] = role
        self.remember_secret(token)
        return request(self.image, version=version, token=token, annotations=annotations)

    def assertAssumed(self, role_name):
        assume = self.sts_calls()
        self.assertEqual(len(assume), 1)
        self.assertFalse(assume[0]["signed"], "AssumeRoleWithWebIdentity is unsigned")
        self.assertEqual(assume[0]["params"]["RoleArn"], self.aws.role_arn(role_name))
        self.assertEqual(assume[0]["params"]["RoleSessionName"], "ecr-renew")
        ecr = self.ecr_calls()
        self.assertEqual(len(ecr), 1)
        self.assertTrue(ecr[0]["principal"].endswith(":assumed-role/%s/ecr-renew" % role_name))

    def test_annotation_role__assumed_with_the_token_not_the_node_keys(self):
        body = self.sa_request(self.aws.mint_jwt(), role=self.aws.role_arn("ecr-renew-irsa"))
        resp = self.decode(self.provide(body, self.node_env()))
        self.assertTrue(self.auth_of(resp, self.host)["password"] == self.aws.ecr_password())
        self.assertAssumed("ecr-renew-irsa")

    def test_role_from_environment__when_no_annotation(self):
        body = self.sa_request(self.aws.mint_jwt(), version=V1BETA1)
        env = self.node_env(AWS_ECR_ROLE_ARN=self.aws.role_arn("ecr-renew-irsa"))
        self.decode(self.provide(body, env, via="dropin"), V1BETA1)
        self.assertAssumed("ecr-renew-irsa")

    def test_annotation_wins_over_environment(self):
        body = self.sa_request(self.aws.mint_jwt(), role=self.aws.role_arn("ecr-renew-irsa"))
        env = self.node_env(AWS_ECR_ROLE_ARN=self.aws.role_arn("ecr-renew-noecr"))
        self.decode(self.provide(body, env))
        self.assertAssumed("ecr-renew-irsa")

    def test_token_the_trust_refuses__fails_with_no_fallback_to_node_keys(self):
        token = self.aws.mint_jwt(sub="system:serviceaccount:default:other")
        body = self.sa_request(token, role=self.aws.role_arn("ecr-renew-irsa"))
        proc = self.provide(body, self.node_env())  # ecr-reader's keys are right there
        self.assertRefused(proc, EXIT_AWS, "AssumeRoleWithWebIdentity", "AccessDenied",
                           "trust policy", ROLE_ANNOTATION, "no fall-back")
        self.assertEqual(self.ecr_calls(), [], "no ECR call with any other credentials")

    def test_token_of_another_issuer__refused(self):
        token = self.aws.mint_jwt(private_key_pem=aws_harness.generate_rogue_key())
        body = self.sa_request(token, role=self.aws.role_arn("ecr-renew-irsa"))
        proc = self.provide(body, self.node_env())
        self.assertRefused(proc, EXIT_AWS, "AssumeRoleWithWebIdentity")
        self.assertEqual(self.ecr_calls(), [])

    def test_role_without_ecr_permission__refused(self):
        body = self.sa_request(self.aws.mint_jwt(), role=self.aws.role_arn("ecr-renew-noecr"))
        proc = self.provide(body, self.node_env())
        self.assertRefused(proc, EXIT_AWS, "GetAuthorizationToken", "ecr-renew-noecr")

    def test_token_but_no_role_anywhere__node_credentials(self):
        body = self.sa_request(self.aws.mint_jwt())
        resp = self.decode(self.provide(body, self.node_env()))
        self.assertTrue(self.auth_of(resp, self.host)["password"] == self.aws.ecr_password())
        self.assertEqual(self.sts_calls(), [])
        self.assertTrue(self.ecr_calls()[0]["principal"].endswith(":user/ecr-reader"))

    def test_role_annotation_not_an_arn__usage_error_before_any_call(self):
        body = self.sa_request(self.aws.mint_jwt(), role="ecr-renew-irsa")
        proc = self.provide(body, self.node_env())
        self.assertRefused(proc, EXIT_USAGE, ROLE_ANNOTATION, "not an IAM role ARN")
        self.assertEqual(self.aws.requests(), [])


class HostsTest(KubeletTestCase):
    def test_not_an_ecr_host__names_the_host_before_any_call(self):
        proc = self.provide(request("ghcr.io/org/app:v1"), self.node_env())
        self.assertRefused(proc, EXIT_USAGE, "ghcr.io is not an Amazon ECR registry host",
                           "ECR_RENEW_REGISTRY_HOSTS")
        self.assertEqual(self.aws.requests(), [])

    def test_alias__answered_under_the_name_the_image_uses(self):
        env = self.node_env(ECR_RENEW_REGISTRY_HOSTS="ecr.internal.example=%s,mirror.example:5000=%s"
                            % (self.host, self.host))
        for image, key in (("ecr.internal.example/app:v1", "ecr.internal.example"),
                           ("mirror.example:5000/team/app:v2", "mirror.example:5000")):
            with self.subTest(image=image):
                resp = self.decode(self.provide(request(image), env))
                self.assertTrue(self.auth_of(resp, key)["password"] == self.aws.ecr_password())
        proc = self.provide(request("other.example/app"), env)
        self.assertRefused(proc, EXIT_USAGE, "other.example")

    def test_alias__from_the_option(self):
        proc = self.provide(request("vpce.example/app"), self.node_env(),
                            args=["--registry-host", "vpce.example=" + self.host])
        self.auth_of(self.decode(proc), "vpce.example")

    def test_ecr_public__its_token_under_its_host(self):
        for host in (aws_harness.ECR_PUBLIC_HOST, aws_harness.ECR_PUBLIC_DUALSTACK_HOST):
            with self.subTest(host=host):
                self.aws.clear_requests()
                proc = self.provide(request(host + "/nginx/nginx:latest"),
                                    self.node_env(user="ecr-public-reader"), via="dropin")
                auth = self.auth_of(self.decode(proc), host)
                self.assertTrue(auth["password"] == self.aws.ecr_public_password())
                signed = [r for r in self.aws.requests() if r.get("service") == "ecr-public"]
                self.assertEqual([(r["region"], r["action"]) for r in signed],
                                 [("us-east-1", "GetAuthorizationToken")])


class BadRequestTest(KubeletTestCase):
    def test_requests_the_kubelet_never_sends__usage_error_nothing_on_stdout(self):
        cases = {
            "other version": request(self.image, version="credentialprovider.kubelet.k8s.io/v1alpha1"),
            "other kind": request(self.image).replace("CredentialProviderRequest", "Pod"),
            "no image": '{"kind":"CredentialProviderRequest","apiVersion":"%s"}\n' % V1,
            "not JSON": "kind: CredentialProviderRequest\n",
            "empty": "",
            "huge": request(self.image)[:-2] + ',"pad":"' + "x" * 70000 + '"}\n',
        }
        words = {"other version": "v1alpha1", "other kind": "Pod", "no image": "no image",
                 "not JSON": "not JSON", "empty": "empty", "huge": "larger than"}
        for name, body in cases.items():
            with self.subTest(name):
                proc = self.provide(body, self.node_env())
                self.assertNotEqual(proc.returncode, EXIT_OK)
                self.assertEqual(proc.stdout, "")
                self.assertIn(words[name], proc.stderr)
                self.assertEqual(len(proc.stderr.strip().splitlines()), 1, "one line")
        self.assertEqual(self.aws.requests(), [])

    def test_help_and_bad_options(self):
        for via in ("command", "dropin"):
            with self.subTest(via=via):
                proc = self.provide("", self.node_env(), via=via, args=["--help"])
                self.assertExit(proc, EXIT_OK)
                self.assertIn("CredentialProviderRequest", proc.stdout)
                proc = self.provide("", self.node_env(), via=via, args=["--no-such-option"])
                self.assertRefused(proc, EXIT_USAGE, "--help")
        proc = self.provide(request(self.image), self.node_env(), args=["--timeout", "soon"])
        self.assertRefused(proc, EXIT_USAGE, "--timeout")

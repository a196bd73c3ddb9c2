"""Self-tests of the AWS fakes: they must be as strict as the real services.

Run from the repository root:

    python3 -m unittest discover -s tests/fakes/aws -v

Uses boto3 and the real AWS CLI v1 (``aws``) against the fakes.  Secret
values (secret keys, session tokens, JWTs, ECR passwords, metadata tokens)
are never printed: comparisons use assertTrue with a neutral message, and
subprocess output is redacted before it can reach a failure message.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402
import sigv4_verify  # noqa: E402
import trust_policy  # noqa: E402

VECTORS = "/work/shared/vectors/sigv4/aws-signing-test-suite/v4"
ECR_TARGET = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"
ECR_PUBLIC_TARGET = "SpencerFrontendService.GetAuthorizationToken"
IRSA_SUB = "system:serviceaccount:kube-system:ecr-renew-sa"

AWS: harness.FakeAws | None = None
SECRETS: set[str] = set()  # every secret value the tests handle
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def remember(*values: str | None) -> None:
    SECRETS.update(v for v in values if v)


def redact(text: str) -> str:
    for value in sorted(SECRETS, key=len, reverse=True):
        text = text.replace(value, "<redacted>")
    return text


def setUpModule() -> None:
    global AWS
    AWS = harness.FakeAws().start()
    for user in AWS.state["users"].values():
        for key in user["access_keys"]:
            remember(key["SecretAccessKey"])


def tearDownModule() -> None:
    if AWS is not None:
        AWS.cleanup()


def error_code(err: Exception) -> tuple[str, int]:
    from botocore.exceptions import ClientError

    assert isinstance(err, ClientError), type(err)
    return err.response["Error"]["Code"], err.response["ResponseMetadata"]["HTTPStatusCode"]


def run_cli(args: list[str], env: dict[str, str], timeout: int = 90) -> subprocess.CompletedProcess[str]:
    aws = shutil.which("aws", path=env.get("PATH"))
    if aws is None:
        raise unittest.SkipTest("AWS CLI not installed")
    return subprocess.run([aws, *args], env=env, capture_output=True, text=True, timeout=timeout)


def http(method: str, url: str, body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with _opener.open(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def decode_ecr_password(token_b64: str) -> str:
    user, _, password = base64.b64decode(token_b64).decode().partition(":")
    assert user == "AWS"
    return password


class SignUserAgent:
    """A botocore SigV4 signer that also signs User-Agent (curl-style
    signers may; botocore and moto's checker never do)."""

    @staticmethod
    def make(credentials: object, service: str, region: str) -> object:
        from botocore.auth import SigV4Auth

        class _Auth(SigV4Auth):
            def headers_to_sign(self, request):  # type: ignore[no-untyped-def]
                headers = super().headers_to_sign(request)
                if "User-Agent" in request.headers:
                    headers["user-agent"] = request.headers["User-Agent"]
                return headers

        return _Auth(credentials, service, region)


def signed_call(user: str, *, service: str = "ecr", region: str = "us-east-1", body: bytes = b"{}",
                headers: dict[str, str] | None = None, when: datetime | None = None,
                sign_user_agent: bool = False, tamper_body: bytes | None = None,
                secret: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """Sign a request by hand (botocore's signer) and send it raw."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    assert AWS is not None
    akid, real_secret = AWS.keys(user)
    creds = Credentials(akid, secret or real_secret)
    if headers is None:
        headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": ECR_TARGET}
    request = AWSRequest("POST", AWS.endpoint + "/", data=body, headers=dict(headers))
    signer = SignUserAgent.make(creds, service, region) if sign_user_agent else SigV4Auth(creds, service, region)
    moment = when or datetime.now(timezone.utc).replace(tzinfo=None)
    with mock.patch("botocore.auth.get_current_datetime", return_value=moment):
        signer.add_auth(request)  # type: ignore[attr-defined]
    prepared = request.prepare()
    data = tamper_body if tamper_body is not None else prepared.body
    return http("POST", prepared.url, data, dict(prepared.headers))


# ---------------------------------------------------------------------------
# Pure parts
# ---------------------------------------------------------------------------


class SigV4VerifierVectorTests(unittest.TestCase):
    """The fake's SigV4 verifier replays the official AWS test suite."""

    @staticmethod
    def parse(raw: bytes) -> sigv4_verify.WireRequest:
        head, _, body = raw.partition(b"\n\n")
        lines = head.split(b"\n")
        first = lines[0]
        method = first[: first.index(b" ")].decode()
        target = first[first.index(b" ") + 1: first.rindex(b" ")]
        headers: list[tuple[str, str]] = []
        for line in lines[1:]:
            if line[:1] in (b" ", b"\t"):  # obsolete folding: continue previous header
                name, value = headers[-1]
                headers[-1] = (name, value + " " + line.decode().strip())
                continue
            name, _, value = line.partition(b":")
            headers.append((name.decode(), value.decode()))
        return sigv4_verify.WireRequest(method, target, tuple(headers), body)

    def test_all_normalized_vectors_verify_and_canonicalise(self) -> None:
        if not os.path.isdir(VECTORS):
            self.skipTest("SigV4 vectors not present")
        checked = 0
        for case in sorted(os.listdir(VECTORS)):
            with open(os.path.join(VECTORS, case, "context.json"), encoding="utf-8") as fh:
                ctx = json.load(fh)
            if not ctx["normalize"]:
                continue  # the S3 (unnormalized) rule does not apply to STS/ECR
            with self.subTest(case=case):
                with open(os.path.join(VECTORS, case, "header-signed-request.txt"), "rb") as fh:
                    req = self.parse(fh.read())
                with open(os.path.join(VECTORS, case, "header-canonical-request.txt"), encoding="utf-8") as fh:
                    expected_creq = fh.read()
                auth = sigv4_verify.check_structure(req, now=None)
                self.assertEqual(sigv4_verify.canonical_request(req, auth), expected_creq)
                secret = ctx["credentials"]["secret_access_key"]
                self.assertTrue(sigv4_verify.verify(req, secret))
                self.assertFalse(sigv4_verify.verify(req, secret[:-1] + "X"))
                checked += 1
        self.assertGreaterEqual(checked, 30)

    def test_skew_and_scope_date_are_checked(self) -> None:
        with open(os.path.join(VECTORS, "get-vanilla", "header-signed-request.txt"), "rb") as fh:
            req = self.parse(fh.read())
        with self.assertRaises(sigv4_verify.SigV4Error) as ctx:
            sigv4_verify.check_structure(req, datetime(2015, 8, 30, 13, 0, tzinfo=timezone.utc))
        self.assertIn("Signature expired", ctx.exception.message)
        sigv4_verify.check_structure(req, datetime(2015, 8, 30, 12, 40, tzinfo=timezone.utc))


class TrustPolicyTests(unittest.TestCase):
    ROLE_DOC = {
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole",
             "Condition": {"StringEquals": {"sts:ExternalId": "x1"}}},
            {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::123456789012:user/mallory"},
             "Action": "sts:*"},
        ]
    }

    def decide(self, arn: str, context: dict[str, str]) -> bool:
        caller = trust_policy.Caller("AWS", arn, "123456789012")
        return trust_policy.evaluate(self.ROLE_DOC, "sts:AssumeRole", caller, context).allowed

    def test_account_root_condition_and_explicit_deny(self) -> None:
        self.assertTrue(self.decide("arn:aws:iam::123456789012:user/bob", {"sts:ExternalId": "x1"}))
        self.assertFalse(self.decide("arn:aws:iam::123456789012:user/bob", {}))
        self.assertFalse(self.decide("arn:aws:iam::123456789012:user/mallory", {"sts:ExternalId": "x1"}))
        self.assertFalse(trust_policy.evaluate(
            self.ROLE_DOC, "sts:AssumeRole", trust_policy.Caller("AWS", "arn:aws:iam::210987654321:user/bob",
                                                                  "210987654321"), {"sts:ExternalId": "x1"}).allowed)

    def test_string_like_on_web_identity(self) -> None:
        doc = {"Statement": [{"Effect": "Allow", "Principal": {"Federated": "arn:p"},
                              "Action": "sts:AssumeRoleWithWebIdentity",
                              "Condition": {"StringLike": {"iss:sub": "system:serviceaccount:ns:*"}}}]}
        fed = trust_policy.Caller("Federated", "arn:p")
        self.assertTrue(trust_policy.evaluate(doc, "sts:AssumeRoleWithWebIdentity", fed,
                                              {"iss:sub": "system:serviceaccount:ns:a"}).allowed)
        self.assertFalse(trust_policy.evaluate(doc, "sts:AssumeRoleWithWebIdentity", fed,
                                               {"iss:sub": "system:serviceaccount:other:a"}).allowed)
        self.assertFalse(trust_policy.evaluate(doc, "sts:AssumeRoleWithWebIdentity",
                                               trust_policy.Caller("Federated", "arn:q"),
                                               {"iss:sub": "system:serviceaccount:ns:a"}).allowed)


# ---------------------------------------------------------------------------
# fake_aws: ECR
# ---------------------------------------------------------------------------


class EcrTokenTests(unittest.TestCase):
    def test_reader_gets_12h_token_and_cli_password_equals_boto3(self) -> None:
        assert AWS is not None
        data = AWS.client("ecr", user="ecr-reader").get_authorization_token()["authorizationData"]
        self.assertEqual(len(data), 1)
        entry = data[0]
        password = decode_ecr_password(entry["authorizationToken"])
        remember(entry["authorizationToken"], password)
        self.assertTrue(2000 < len(password) < 3000, "password should be about 2.4 KB")
        self.assertTrue(re.fullmatch(r"[A-Za-z0-9+/]+=*", password), "password should look like base64")
        lifetime = entry["expiresAt"] - datetime.now(timezone.utc)
        self.assertLess(abs(lifetime - timedelta(hours=12)), timedelta(minutes=1))
        self.assertEqual(entry["proxyEndpoint"], f"https://{AWS.registry_host()}")

        proc = run_cli(["--endpoint-url", AWS.endpoint, "ecr", "get-login-password"], AWS.env(user="ecr-reader"))
        self.assertEqual(proc.returncode, 0, redact(proc.stderr))
        self.assertTrue(proc.stdout.strip() == password, "CLI and boto3 passwords differ")

    def test_expires_at_is_a_fractional_json_number(self) -> None:
        status, _, body = signed_call("ecr-reader")
        self.assertEqual(status, 200)
        remember(*re.findall(r'"authorizationToken":"([^"]+)"', body.decode()))
        match = re.search(rb'"expiresAt":(\d+\.\d+)[,}]', body)
        self.assertIsNotNone(match, "expiresAt should be written as a fractional number")

    def test_expires_at_format_and_lifetime_are_configurable(self) -> None:
        assert AWS is not None
        try:
            AWS.configure_ecr(lifetime_seconds=60, expires_at_format="exponent")
            status, _, body = signed_call("ecr-reader")
            self.assertEqual(status, 200)
            remember(*re.findall(r'"authorizationToken":"([^"]+)"', body.decode()))
            match = re.search(rb'"expiresAt":(\d\.\d+E\+\d+)[,}]', body)
            self.assertIsNotNone(match, "expiresAt should be in exponent form")
            self.assertLess(abs(float(match.group(1)) - (time.time() + 60)), 5)
        finally:
            AWS.configure_ecr(lifetime_seconds=12 * 3600, expires_at_format="fraction")

    def test_registry_ids_give_one_entry_each_and_region_comes_from_scope(self) -> None:
        assert AWS is not None
        ecr = AWS.client("ecr", user="ecr-reader", region="eu-west-1")
        data = ecr.get_authorization_token(registryIds=["111111111111", "222222222222"])["authorizationData"]
        self.assertEqual([d["proxyEndpoint"] for d in data],
                         ["https://111111111111.dkr.ecr.eu-west-1.amazonaws.com",
                          "https://222222222222.dkr.ecr.eu-west-1.amazonaws.com"])
        passwords = {decode_ecr_password(d["authorizationToken"]) for d in data}
        remember(*passwords)
        self.assertEqual(len(passwords), 1, "one password for every registry of a region")
        home = AWS.client("ecr", user="ecr-reader").get_authorization_token()["authorizationData"][0]
        remember(decode_ecr_password(home["authorizationToken"]))
        self.assertTrue(decode_ecr_password(home["authorizationToken"]) not in passwords,
                        "another region must get another password")

    def test_bad_registry_ids_are_refused(self) -> None:
        status, headers, body = signed_call("ecr-reader", body=b'{"registryIds":["12345"]}')
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["__type"], "InvalidParameterException")

    def test_ecr_needs_the_json_1_1_content_type(self) -> None:
        status, _, body = signed_call("ecr-reader", headers={"Content-Type": "application/json",
                                                             "X-Amz-Target": ECR_TARGET})
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["__type"], "SerializationException")

    def test_rotation_gives_a_new_password(self) -> None:
        assert AWS is not None
        ecr = AWS.client("ecr", user="ecr-reader")
        before = decode_ecr_password(ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"])
        again = decode_ecr_password(ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"])
        generation = AWS.rotate_ecr()
        after = decode_ecr_password(ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"])
        remember(before, after)
        self.assertGreaterEqual(generation, 2)
        self.assertTrue(before == again, "same generation must give the same password")
        self.assertTrue(before != after, "rotation must change the password")


# ---------------------------------------------------------------------------
# fake_aws: authentication and authorisation
# ---------------------------------------------------------------------------


class AuthStrictnessTests(unittest.TestCase):
    def test_wrong_secret_is_signature_does_not_match(self) -> None:
        assert AWS is not None
        akid, _ = AWS.keys("ecr-reader")
        wrong = (akid, "x" * 40)
        with self.assertRaises(Exception) as ctx:
            AWS.client("ecr", credentials=wrong).get_authorization_token()
        self.assertEqual(error_code(ctx.exception), ("InvalidSignatureException", 400))
        with self.assertRaises(Exception) as ctx:
            AWS.client("sts", credentials=wrong).get_caller_identity()
        self.assertEqual(error_code(ctx.exception), ("SignatureDoesNotMatch", 403))
        env = AWS.env(credentials=wrong)
        proc = run_cli(["--endpoint-url", AWS.endpoint, "ecr", "get-login-password"], env)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("InvalidSignatureException", proc.stderr)

    def test_unknown_key_is_invalid_client_token(self) -> None:
        assert AWS is not None
        unknown = ("AKIAUNKNOWNKEY000000", "y" * 40)
        with self.assertRaises(Exception) as ctx:
            AWS.client("sts", credentials=unknown).get_caller_identity()
        self.assertEqual(error_code(ctx.exception), ("InvalidClientTokenId", 403))
        with self.assertRaises(Exception) as ctx:
            AWS.client("ecr", credentials=unknown).get_authorization_token()
        self.assertEqual(error_code(ctx.exception), ("UnrecognizedClientException", 400))

    def test_no_perms_is_access_denied(self) -> None:
        assert AWS is not None
        with self.assertRaises(Exception) as ctx:
            AWS.client("ecr", user="no-perms").get_authorization_token()
        self.assertEqual(error_code(ctx.exception), ("AccessDeniedException", 400))
        with self.assertRaises(Exception) as ctx:
            AWS.client("iam", user="ecr-reader").list_users()
        self.assertEqual(error_code(ctx.exception), ("AccessDenied", 403))

    def test_ecr_errors_are_json_with_error_type_header(self) -> None:
        status, headers, body = signed_call("no-perms")
        self.assertEqual(status, 400)
        lowered = {k.lower(): v for k, v in headers.items()}
        self.assertEqual(lowered.get("x-amzn-errortype"), "AccessDeniedException")
        self.assertEqual(json.loads(body)["__type"], "AccessDeniedException")

    def test_unsigned_ecr_is_refused(self) -> None:
        assert AWS is not None
        status, _, body = http("POST", AWS.endpoint + "/", b"{}",
                               {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": ECR_TARGET})
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["__type"], "MissingAuthenticationTokenException")

    def test_clock_skew_is_refused(self) -> None:
        old = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(minutes=20)
        status, _, body = signed_call("ecr-reader", when=old)
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["__type"], "InvalidSignatureException")
        self.assertIn("Signature expired", json.loads(body)["message"])

    def test_body_changed_after_signing_is_refused(self) -> None:
        status, _, body = signed_call("ecr-reader", tamper_body=b'{"registryIds":["111111111111"]}')
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["__type"], "InvalidSignatureException")

    def test_signed_user_agent_is_accepted(self) -> None:
        # moto's own checker rejects this valid signature; the fake must not.
        status, _, body = signed_call("ecr-reader", sign_user_agent=True,
                                      headers={"Content-Type": "application/x-amz-json-1.1",
                                               "X-Amz-Target": ECR_TARGET, "User-Agent": "ecr-renew/test"})
        remember(*re.findall(r'"authorizationToken":"([^"]+)"', body.decode()))
        self.assertEqual(status, 200)

    def test_libcurl_aws_sigv4_is_accepted(self) -> None:
        # ecr-renew signs with libcurl (CURLOPT_AWS_SIGV4); so does curl(1).
        assert AWS is not None
        curl = shutil.which("curl")
        if curl is None:
            self.skipTest("curl not installed")
        akid, secret = AWS.keys("ecr-reader")
        config = (f'user = "{akid}:{secret}"\n'  # via stdin: secrets stay out of argv
                  'aws-sigv4 = "aws:amz:us-east-1:ecr"\n'
                  f'header = "X-Amz-Target: {ECR_TARGET}"\n'
                  'header = "Content-Type: application/x-amz-json-1.1"\n'
                  'data = "{}"\n')
        proc = subprocess.run([curl, "-s", "-o", "/dev/null", "-w", "%{http_code}", "-K", "-", AWS.endpoint + "/"],
                              input=config, capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.stdout, "200", redact(proc.stderr))
        entry = AWS.requests()[-1]
        self.assertEqual((entry["action"], entry["status"]), ("GetAuthorizationToken", 200))

    def test_sts_form_body_encoded_differently_is_accepted(self) -> None:
        # AWS hashes the body as sent; moto re-encodes the parsed form.
        assert AWS is not None
        body = b"Action=GetCallerIdentity&Version=2011%2D06%2D15"
        status, _, out = signed_call("ecr-reader", service="sts", body=body,
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 200, out[:300])
        self.assertIn(b"user/ecr-reader", out)

    def test_moto_admin_api_is_not_exposed(self) -> None:
        assert AWS is not None
        status, _, _ = http("POST", AWS.endpoint + "/moto-api/reset-auth", b"0", {"Content-Type": "text/plain"})
        self.assertEqual(status, 404)
        with self.assertRaises(Exception):
            AWS.client("ecr", user="no-perms").get_authorization_token()

    def test_deactivated_key_is_refused(self) -> None:
        assert AWS is not None
        iam = AWS.client("iam", user="admin")
        key = iam.create_access_key(UserName="no-perms")["AccessKey"]
        remember(key["SecretAccessKey"])
        creds = (key["AccessKeyId"], key["SecretAccessKey"])
        AWS.client("sts", credentials=creds).get_caller_identity()
        iam.update_access_key(UserName="no-perms", AccessKeyId=key["AccessKeyId"], Status="Inactive")
        with self.assertRaises(Exception) as ctx:
            AWS.client("sts", credentials=creds).get_caller_identity()
        self.assertEqual(error_code(ctx.exception), ("InvalidClientTokenId", 403))

    def test_assume_role_honours_trust_policies(self) -> None:
        assert AWS is not None
        node = AWS.role_arn("ecr-renew-node")
        admin_sts = AWS.client("sts", user="admin")
        creds = admin_sts.assume_role(RoleArn=node, RoleSessionName="trust-test")["Credentials"]
        remember(creds["SecretAccessKey"], creds["SessionToken"])
        for arn, user in ((node, "ecr-reader"),                          # no identity permission
                          (AWS.role_arn("ecr-renew-irsa"), "admin"),     # trust names only the OIDC provider
                          (f"arn:aws:iam::{AWS.account_id}:role/does-not-exist", "admin")):
            with self.subTest(role=arn, user=user), self.assertRaises(Exception) as ctx:
                AWS.client("sts", user=user).assume_role(RoleArn=arn, RoleSessionName="trust-test")
            self.assertEqual(error_code(ctx.exception), ("AccessDenied", 403))
        with self.assertRaises(Exception) as ctx:
            admin_sts.assume_role(RoleArn=node, RoleSessionName="too-long", DurationSeconds=7200)
        self.assertEqual(error_code(ctx.exception), ("ValidationError", 400))


# ---------------------------------------------------------------------------
# fake_aws: web identity
# ---------------------------------------------------------------------------


class WebIdentityTests(unittest.TestCase):
    def assume(self, token: str, role: str = "ecr-renew-irsa", **kwargs: object) -> dict:
        assert AWS is not None
        remember(token)
        sts = AWS.client("sts", signed=False)
        result = sts.assume_role_with_web_identity(RoleArn=AWS.role_arn(role), RoleSessionName="ecr-renew",
                                                   WebIdentityToken=token, **kwargs)
        remember(result["Credentials"]["SecretAccessKey"], result["Credentials"]["SessionToken"])
        return result

    def assert_refused(self, token: str, code: str, status: int, role: str = "ecr-renew-irsa") -> None:
        with self.assertRaises(Exception) as ctx:
            self.assume(token, role)
        self.assertEqual(error_code(ctx.exception), (code, status))

    def test_unsigned_call_with_good_jwt_gives_enforced_credentials(self) -> None:
        assert AWS is not None
        result = self.assume(AWS.mint_jwt(sub=IRSA_SUB))
        self.assertEqual(result["SubjectFromWebIdentityToken"], IRSA_SUB)
        self.assertTrue(result["AssumedRoleUser"]["Arn"].endswith(":assumed-role/ecr-renew-irsa/ecr-renew"))
        creds = result["Credentials"]
        data = AWS.client("ecr", credentials=creds).get_authorization_token()["authorizationData"]
        remember(data[0]["authorizationToken"])
        with self.assertRaises(Exception) as ctx:
            AWS.client("iam", credentials=creds).list_users()
        self.assertEqual(error_code(ctx.exception), ("AccessDenied", 403))
        with self.assertRaises(Exception) as ctx:  # the session token is part of the identity
            AWS.client("ecr", credentials=(creds["AccessKeyId"], creds["SecretAccessKey"], "bogus")
                       ).get_authorization_token()
        self.assertEqual(error_code(ctx.exception), ("UnrecognizedClientException", 400))
        entry = [e for e in AWS.requests() if e["action"] == "AssumeRoleWithWebIdentity"][-1]
        self.assertFalse(entry["signed"])
        self.assertEqual(entry["status"], 200)

    def test_raw_unsigned_form_post_gets_sts_xml(self) -> None:
        assert AWS is not None
        token = AWS.mint_jwt(sub="system:serviceaccount:default:intruder")
        remember(token)
        form = urllib.parse.urlencode({
            "Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15",
            "RoleArn": AWS.role_arn("ecr-renew-irsa"), "RoleSessionName": "ecr-renew",
            "WebIdentityToken": token}).encode()
        status, _, body = http("POST", AWS.endpoint + "/", form,
                               {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        self.assertEqual(status, 403)
        text = body.decode()
        for part in ("<ErrorResponse", "<Error>", "<Type>Sender</Type>", "<Code>AccessDenied</Code>",
                     "Not authorized to perform sts:AssumeRoleWithWebIdentity", "<RequestId>"):
            self.assertIn(part, text)
        self.assertNotIn("<Errors>", text)

    def test_other_service_account_is_denied(self) -> None:
        assert AWS is not None
        self.assert_refused(AWS.mint_jwt(sub="system:serviceaccount:default:ecr-renew-sa"), "AccessDenied", 403)

    def test_string_like_trust_admits_other_kube_system_accounts(self) -> None:
        assert AWS is not None
        creds = self.assume(AWS.mint_jwt(sub="system:serviceaccount:kube-system:other"),
                            role="ecr-renew-noecr")["Credentials"]
        with self.assertRaises(Exception) as ctx:
            AWS.client("ecr", credentials=creds).get_authorization_token()
        self.assertEqual(error_code(ctx.exception), ("AccessDeniedException", 400))

    def test_repository_scoped_policy_cannot_get_a_token(self) -> None:
        assert AWS is not None
        creds = self.assume(AWS.mint_jwt(sub=IRSA_SUB), role="ecr-renew-repo-scoped")["Credentials"]
        with self.assertRaises(Exception) as ctx:
            AWS.client("ecr", credentials=creds).get_authorization_token()
        self.assertEqual(error_code(ctx.exception), ("AccessDeniedException", 400))

    def test_bad_signature_is_invalid_identity_token(self) -> None:
        assert AWS is not None
        rogue = AWS.mint_jwt(sub=IRSA_SUB, private_key_pem=harness.generate_rogue_key())
        self.assert_refused(rogue, "InvalidIdentityToken", 400)
        good = AWS.mint_jwt(sub=IRSA_SUB)
        header, claims, sig = good.split(".")
        forged = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
        forged["sub"] = IRSA_SUB + "x"
        tampered = ".".join([header, base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode(), sig])
        self.assert_refused(tampered, "InvalidIdentityToken", 400)
        self.assert_refused("not-a-jwt", "InvalidIdentityToken", 400)

    def test_expired_token(self) -> None:
        assert AWS is not None
        self.assert_refused(AWS.mint_jwt(sub=IRSA_SUB, expires_in=-30), "ExpiredTokenException", 400)

    def test_wrong_audience_unknown_issuer_and_wrong_kid(self) -> None:
        assert AWS is not None
        self.assert_refused(AWS.mint_jwt(sub=IRSA_SUB, aud="not-sts"), "InvalidIdentityToken", 400)
        unknown_iss = harness.mint_jwt(AWS.issuer()["private_key_pem"], iss="https://oidc.example.com/id/OTHER",
                                       sub=IRSA_SUB)
        self.assert_refused(unknown_iss, "InvalidIdentityToken", 400)
        self.assert_refused(AWS.mint_jwt(sub=IRSA_SUB, kid="not-the-kid"), "InvalidIdentityToken", 400)

    def test_duration_above_role_maximum_is_refused(self) -> None:
        assert AWS is not None
        with self.assertRaises(Exception) as ctx:
            self.assume(AWS.mint_jwt(sub=IRSA_SUB), DurationSeconds=7200)
        self.assertEqual(error_code(ctx.exception), ("ValidationError", 400))

    def test_expired_session_credentials_are_refused(self) -> None:
        assert AWS is not None
        creds = self.assume(AWS.mint_jwt(sub=IRSA_SUB))["Credentials"]
        self.assertEqual(AWS.expire_sessions(creds["AccessKeyId"]), 1)
        with self.assertRaises(Exception) as ctx:
            AWS.client("ecr", credentials=creds).get_authorization_token()
        self.assertEqual(error_code(ctx.exception), ("ExpiredTokenException", 400))

    def test_cli_with_irsa_environment(self) -> None:
        assert AWS is not None
        token_file = AWS.write_token_file(sub=IRSA_SUB)
        with open(token_file, encoding="utf-8") as fh:
            remember(fh.read())
        env = AWS.env(web_identity=(AWS.role_arn("ecr-renew-irsa"), token_file))
        proc = run_cli(["sts", "get-caller-identity", "--output", "json"], env)
        self.assertEqual(proc.returncode, 0, redact(proc.stderr))
        self.assertIn(":assumed-role/ecr-renew-irsa/", json.loads(proc.stdout)["Arn"])


# ---------------------------------------------------------------------------
# fake_aws: ECR Public
# ---------------------------------------------------------------------------


class EcrPublicTests(unittest.TestCase):
    """ECR Public's GetAuthorizationToken (moto has no ecr-public)."""

    def public(self, **kwargs: object) -> dict:
        """Call it with boto3 (region us-east-1 unless given); the answer's
        authorizationData, its secrets remembered."""
        assert AWS is not None
        kwargs.setdefault("region", harness.ECR_PUBLIC_REGION)
        client = AWS.client("ecr-public", **kwargs)  # type: ignore[arg-type]
        data = client.get_authorization_token()["authorizationData"]
        remember(data["authorizationToken"], decode_ecr_password(data["authorizationToken"]))
        return data

    def refused(self, **kwargs: object) -> tuple[str, int, str]:
        with self.assertRaises(Exception) as ctx:
            self.public(**kwargs)
        code, status = error_code(ctx.exception)
        return code, status, ctx.exception.response["Error"]["Message"]  # type: ignore[attr-defined]

    def raw(self, user: str = "ecr-public-reader", **kwargs: object) -> tuple[int, dict[str, str], bytes]:
        kwargs.setdefault("service", "ecr-public")
        kwargs.setdefault("headers", {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": ECR_PUBLIC_TARGET})
        status, headers, body = signed_call(user, **kwargs)  # type: ignore[arg-type]
        remember(*re.findall(r'"authorizationToken":"([^"]+)"', body.decode()))
        return status, {k.lower(): v for k, v in headers.items()}, body

    def test_reader_gets_one_object_without_proxy_endpoint(self) -> None:
        assert AWS is not None
        data = self.public(user="ecr-public-reader")
        self.assertEqual(sorted(data), ["authorizationToken", "expiresAt"])
        lifetime = data["expiresAt"] - datetime.now(timezone.utc)
        self.assertLess(abs(lifetime - timedelta(hours=12)), timedelta(minutes=1))
        password = decode_ecr_password(data["authorizationToken"])
        expected = AWS.ecr_public_password()
        remember(expected)
        self.assertTrue(password == expected, "harness password differs from the served one")
        self.assertTrue(2000 < len(password) < 3000, "password should be about 2.4 KB")
        private = AWS.ecr_password()
        remember(private)
        self.assertTrue(password != private, "ECR Public and ECR passwords must differ")
        ecr = AWS.client("ecr", user="ecr-public-reader").get_authorization_token()["authorizationData"][0]
        remember(ecr["authorizationToken"])
        self.assertTrue(decode_ecr_password(ecr["authorizationToken"]) == private, "ecr_password() is wrong")

        status, headers, body = self.raw()
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "application/x-amz-json-1.1")
        self.assertIn("x-amzn-requestid", headers)
        self.assertRegex(body.decode(), r'^\{"authorizationData":\{"authorizationToken":"[A-Za-z0-9+/]+=*",'
                                        r'"expiresAt":\d+\.\d{3}\}\}$')
        entry = AWS.requests()[-1]
        self.assertEqual((entry["service"], entry["region"], entry["action"], entry["target"], entry["status"]),
                         ("ecr-public", "us-east-1", "GetAuthorizationToken", ECR_PUBLIC_TARGET, 200))
        self.assertTrue(entry["principal"].endswith(":user/ecr-public-reader"))

    def test_cli_get_login_password(self) -> None:
        assert AWS is not None
        proc = run_cli(["--endpoint-url", AWS.endpoint, "ecr-public", "get-login-password"],
                       AWS.env(user="ecr-public-reader"))
        self.assertEqual(proc.returncode, 0, redact(proc.stderr))
        expected = AWS.ecr_public_password()
        remember(expected)
        self.assertTrue(proc.stdout.strip() == expected, "CLI password differs from the fake's")
        for user, action in (("ecr-reader", "ecr-public:GetAuthorizationToken"),
                             ("ecr-public-half", "sts:GetServiceBearerToken")):
            with self.subTest(user=user):
                proc = run_cli(["--endpoint-url", AWS.endpoint, "ecr-public", "get-login-password"],
                               AWS.env(user=user))
                self.assertNotEqual(proc.returncode, 0)
                self.assertIn("AccessDeniedException", proc.stderr)
                self.assertIn(action, proc.stderr)
        proc = run_cli(["--endpoint-url", AWS.endpoint, "--region", "us-west-2", "ecr-public", "get-login-password"],
                       AWS.env(user="ecr-public-reader"))
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("InvalidSignatureException", proc.stderr)

    def test_each_missing_permission_is_access_denied_naming_it(self) -> None:
        for user, action in (("ecr-reader", "ecr-public:GetAuthorizationToken"),
                             ("no-perms", "ecr-public:GetAuthorizationToken"),
                             ("ecr-public-half", "sts:GetServiceBearerToken")):
            with self.subTest(user=user):
                code, status, message = self.refused(user=user)
                self.assertEqual((code, status), ("AccessDeniedException", 400))
                self.assertIn(f":user/{user} is not authorized to perform: {action}", message)
                status, headers, body = self.raw(user)
                self.assertEqual(status, 400)
                self.assertEqual(headers["x-amzn-errortype"], "AccessDeniedException")
                self.assertEqual(headers["content-type"], "application/x-amz-json-1.1")
                self.assertEqual(sorted(json.loads(body)), ["__type", "message"])
                self.assertEqual(json.loads(body)["__type"], "AccessDeniedException")

    def test_bearer_condition_key_and_explicit_deny(self) -> None:
        assert AWS is not None
        iam = AWS.client("iam", user="admin")
        iam.create_user(UserName="ecr-public-conditional")
        key = iam.create_access_key(UserName="ecr-public-conditional")["AccessKey"]
        remember(key["SecretAccessKey"])
        creds = (key["AccessKeyId"], key["SecretAccessKey"])

        def policy(service_name: str) -> str:
            return json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "ecr-public:GetAuthorizationToken", "Resource": "*"},
                {"Effect": "Allow", "Action": "sts:GetServiceBearerToken", "Resource": "*",
                 "Condition": {"StringEquals": {"sts:AWSServiceName": service_name}}}]})

        iam.put_user_policy(UserName="ecr-public-conditional", PolicyName="p",
                            PolicyDocument=policy("ecr-public.amazonaws.com"))
        self.public(credentials=creds)
        iam.put_user_policy(UserName="ecr-public-conditional", PolicyName="p",
                            PolicyDocument=policy("codeartifact.amazonaws.com"))
        code, _, message = self.refused(credentials=creds)
        self.assertEqual(code, "AccessDeniedException")
        self.assertIn("sts:GetServiceBearerToken", message)
        iam.put_user_policy(UserName="ecr-public-conditional", PolicyName="p",
                            PolicyDocument=policy("ecr-public.amazonaws.com"))
        iam.put_user_policy(UserName="ecr-public-conditional", PolicyName="deny", PolicyDocument=json.dumps(
            {"Version": "2012-10-17",
             "Statement": [{"Effect": "Deny", "Action": "ecr-public:*", "Resource": "*"}]}))
        self.assertEqual(self.refused(credentials=creds)[0], "AccessDeniedException")

    def test_signature_for_another_region_or_service_is_refused(self) -> None:
        code, status, message = self.refused(user="ecr-public-reader", region="us-west-2")
        self.assertEqual((code, status), ("InvalidSignatureException", 400))
        self.assertIn("Credential should be scoped to a valid region, not 'us-west-2'", message)
        status, headers, body = self.raw(region="eu-west-1")
        self.assertEqual((status, headers["x-amzn-errortype"]), (400, "InvalidSignatureException"))
        # The ECR Public target signed for ecr, and ECR's signed for ecr-public.
        status, _, body = self.raw(service="ecr")
        self.assertEqual((status, json.loads(body)["__type"]), (400, "InvalidSignatureException"))
        self.assertIn("Credential should be scoped to correct service: 'ecr-public'", json.loads(body)["message"])
        status, _, body = self.raw(headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": ECR_TARGET})
        self.assertEqual((status, json.loads(body)["__type"]), (400, "InvalidSignatureException"))
        self.assertIn("correct service: 'ecr'", json.loads(body)["message"])

    def test_bad_keys_and_unsigned_calls_are_refused(self) -> None:
        assert AWS is not None
        akid, _ = AWS.keys("ecr-public-reader")
        self.assertEqual(self.refused(credentials=(akid, "x" * 40))[:2], ("InvalidSignatureException", 400))
        self.assertEqual(self.refused(credentials=("AKIAUNKNOWNKEY000000", "y" * 40))[:2],
                         ("UnrecognizedClientException", 400))
        status, _, body = http("POST", AWS.endpoint + "/", b"{}", {"Content-Type": "application/x-amz-json-1.1",
                                                                     "X-Amz-Target": ECR_PUBLIC_TARGET})
        self.assertEqual((status, json.loads(body)["__type"]), (400, "MissingAuthenticationTokenException"))
        status, _, body = self.raw(tamper_body=b'{"x":1}')
        self.assertEqual((status, json.loads(body)["__type"]), (400, "InvalidSignatureException"))

    def test_body_content_type_and_operation_are_checked(self) -> None:
        for body in (b"", b"[]", b"not json"):
            with self.subTest(body=body):
                status, _, out = self.raw(body=body)
                self.assertEqual((status, json.loads(out)["__type"]), (400, "SerializationException"))
        status, _, out = self.raw(headers={"Content-Type": "application/json", "X-Amz-Target": ECR_PUBLIC_TARGET})
        self.assertEqual((status, json.loads(out)["__type"]), (400, "SerializationException"))
        status, _, out = self.raw(headers={"Content-Type": "application/x-amz-json-1.1",
                                           "X-Amz-Target": "SpencerFrontendService.DescribeRepositories"})
        self.assertEqual((status, json.loads(out)["__type"]), (400, "UnknownOperationException"))

    def test_lifetime_and_expires_at_format_follow_configure_ecr(self) -> None:
        assert AWS is not None
        try:
            AWS.configure_ecr(lifetime_seconds=90)
            data = self.public(user="ecr-public-reader")
            self.assertLess(abs(data["expiresAt"].timestamp() - (time.time() + 90)), 5)
            AWS.configure_ecr(expires_at_format="exponent")
            status, _, body = self.raw()
            self.assertEqual(status, 200)
            match = re.search(rb'"expiresAt":(\d\.\d+E\+\d+)\}\}$', body)
            self.assertIsNotNone(match, "expiresAt should be in exponent form")
            self.assertLess(abs(float(match.group(1)) - (time.time() + 90)), 5)
        finally:
            AWS.configure_ecr(lifetime_seconds=12 * 3600, expires_at_format="fraction")

    def test_rotation_changes_both_passwords(self) -> None:
        assert AWS is not None
        before = decode_ecr_password(self.public(user="ecr-public-reader")["authorizationToken"])
        again = decode_ecr_password(self.public(user="admin")["authorizationToken"])
        private_before = AWS.ecr_password()
        remember(private_before)
        generation = AWS.rotate_ecr()
        after = decode_ecr_password(self.public(user="ecr-public-reader")["authorizationToken"])
        self.assertTrue(before == again, "same generation must give the same password")
        self.assertTrue(before != after, "rotation must change the ECR Public password")
        self.assertTrue(AWS.ecr_public_password() == after, "harness must follow the rotation")
        private_after = AWS.ecr_password()
        remember(private_after)
        self.assertTrue(private_before != private_after, "rotation must change the ECR password too")
        self.assertEqual(AWS.admin("GET", "/_fake/ecr/config")["generation"], generation)

    def test_temporary_credentials(self) -> None:
        assert AWS is not None
        sts = AWS.client("sts", signed=False)

        def web_identity(role: str) -> dict:
            token = AWS.mint_jwt(sub=IRSA_SUB)
            remember(token)
            creds = sts.assume_role_with_web_identity(RoleArn=AWS.role_arn(role), RoleSessionName="ecr-renew",
                                                      WebIdentityToken=token)["Credentials"]
            remember(creds["SecretAccessKey"], creds["SessionToken"])
            return creds

        creds = web_identity("ecr-renew-public")
        self.public(credentials=creds)
        entry = AWS.requests()[-1]
        self.assertTrue(entry["session_token"])
        self.assertTrue(entry["principal"].endswith(":assumed-role/ecr-renew-public/ecr-renew"))
        code, _, message = self.refused(credentials=web_identity("ecr-renew-irsa"))
        self.assertEqual(code, "AccessDeniedException")
        self.assertIn(":assumed-role/ecr-renew-irsa/ecr-renew is not authorized to perform: "
                      "ecr-public:GetAuthorizationToken", message)
        self.assertEqual(self.refused(credentials=(creds["AccessKeyId"], creds["SecretAccessKey"], "bogus"))[:2],
                         ("UnrecognizedClientException", 400))
        assumed = AWS.client("sts", user="admin").assume_role(RoleArn=AWS.role_arn("ecr-renew-public"),
                                                               RoleSessionName="node")["Credentials"]
        remember(assumed["SecretAccessKey"], assumed["SessionToken"])
        self.public(credentials=assumed)
        self.assertEqual(AWS.expire_sessions(creds["AccessKeyId"]), 1)
        self.assertEqual(self.refused(credentials=creds)[:2], ("ExpiredTokenException", 400))

    def test_cli_with_irsa_environment(self) -> None:
        assert AWS is not None
        token_file = AWS.write_token_file(sub=IRSA_SUB)
        with open(token_file, encoding="utf-8") as fh:
            remember(fh.read())
        env = AWS.env(web_identity=(AWS.role_arn("ecr-renew-public"), token_file))
        proc = run_cli(["--endpoint-url", AWS.endpoint, "ecr-public", "get-login-password"], env)
        self.assertEqual(proc.returncode, 0, redact(proc.stderr))
        expected = AWS.ecr_public_password()
        remember(expected)
        self.assertTrue(proc.stdout.strip() == expected, "CLI password differs from the fake's")

    def test_faults_are_addressed_separately_from_ecr(self) -> None:
        assert AWS is not None
        try:
            AWS.inject_fault("ecr-public:GetAuthorizationToken", "throttle")
            status, headers, body = signed_call("ecr-reader")  # ECR is not affected
            remember(*re.findall(r'"authorizationToken":"([^"]+)"', body.decode()))
            self.assertEqual(status, 200)
            status, headers, body = self.raw()
            self.assertEqual((status, headers["x-amzn-errortype"]), (400, "ThrottlingException"))
            self.assertEqual(json.loads(body), {"__type": "ThrottlingException", "message": "Rate exceeded"})
            self.assertEqual(AWS.requests()[-1]["fault"], "throttle")

            AWS.inject_fault("GetAuthorizationToken", "500")  # ECR's name: not used up by ECR Public
            self.assertEqual(self.raw()[0], 200)
            self.assertEqual([f["match"] for f in AWS.faults()], ["GetAuthorizationToken"])
            self.assertEqual(signed_call("ecr-reader")[0], 500)
            AWS.inject_fault("ecr:GetAuthorizationToken", "503")
            self.assertEqual(self.raw()[0], 200)
            self.assertEqual(signed_call("ecr-reader")[0], 503)

            AWS.inject_fault("ecr-public:GetAuthorizationToken", "500")
            self.assertEqual(self.refused(user="ecr-public-reader")[:2], ("ServerException", 500))
            AWS.inject_fault("*", "503")
            self.assertEqual(self.raw()[0], 503)
            AWS.inject_fault("ecr-public:GetAuthorizationToken", "drop")
            with self.assertRaises((urllib.error.URLError, ConnectionError, OSError)):
                self.raw()
            self.assertEqual(AWS.faults(), [])
        finally:
            AWS.clear_faults()


# ---------------------------------------------------------------------------
# Faults and the request log
# ---------------------------------------------------------------------------


class FaultTests(unittest.TestCase):
    def tearDown(self) -> None:
        assert AWS is not None
        AWS.clear_faults()

    def test_throttle_fires_exactly_count_times(self) -> None:
        assert AWS is not None
        AWS.inject_fault("GetAuthorizationToken", "throttle", count=2)
        AWS.clear_requests()
        results = [signed_call("ecr-reader") for _ in range(3)]
        self.assertEqual([r[0] for r in results], [400, 400, 200])
        remember(*re.findall(r'"authorizationToken":"([^"]+)"', results[2][2].decode()))
        for status, headers, body in results[:2]:
            self.assertEqual(json.loads(body), {"__type": "ThrottlingException", "message": "Rate exceeded"})
            self.assertEqual({k.lower(): v for k, v in headers.items()}["x-amzn-errortype"], "ThrottlingException")
        self.assertEqual([e["fault"] for e in AWS.requests()], ["throttle", "throttle", None])
        self.assertEqual(AWS.faults(), [])

    def test_server_errors_drop_and_sts_throttle(self) -> None:
        assert AWS is not None
        AWS.inject_fault("GetAuthorizationToken", "500")
        AWS.inject_fault("GetAuthorizationToken", "503")
        self.assertEqual(signed_call("ecr-reader")[0], 500)
        self.assertEqual(signed_call("ecr-reader")[0], 503)
        AWS.inject_fault("GetAuthorizationToken", "drop")
        with self.assertRaises((urllib.error.URLError, ConnectionError, OSError)):
            signed_call("ecr-reader")
        AWS.inject_fault("AssumeRoleWithWebIdentity", "throttle")
        with self.assertRaises(Exception) as ctx:
            AWS.client("sts", signed=False).assume_role_with_web_identity(
                RoleArn=AWS.role_arn("ecr-renew-irsa"), RoleSessionName="ecr-renew",
                WebIdentityToken=AWS.mint_jwt(sub=IRSA_SUB))
        self.assertEqual(error_code(ctx.exception), ("Throttling", 400))

    def test_delay_then_serve(self) -> None:
        assert AWS is not None
        AWS.inject_fault("*", "delay", seconds=0.5)
        started = time.monotonic()
        self.assertEqual(signed_call("ecr-reader")[0], 200)
        self.assertGreaterEqual(time.monotonic() - started, 0.5)

    def test_request_log_records_signing_details(self) -> None:
        assert AWS is not None
        AWS.clear_requests()
        self.assertEqual(signed_call("ecr-reader", region="ap-southeast-2")[0], 200)
        entry = AWS.requests()[-1]
        self.assertEqual(entry["action"], "GetAuthorizationToken")
        self.assertEqual(entry["target"], ECR_TARGET)
        self.assertEqual(entry["region"], "ap-southeast-2")
        self.assertEqual(entry["service"], "ecr")
        self.assertTrue(entry["signed"])
        self.assertIn("host", entry["signed_headers"])
        self.assertEqual(entry["access_key_id"], AWS.keys("ecr-reader")[0])
        self.assertTrue(entry["principal"].endswith(":user/ecr-reader"))


# ---------------------------------------------------------------------------
# Metadata fakes
# ---------------------------------------------------------------------------


class ImdsTests(unittest.TestCase):
    imds: harness.FakeImds

    @classmethod
    def setUpClass(cls) -> None:
        assert AWS is not None
        cls.imds = harness.FakeImds(AWS).start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.imds.cleanup()

    def token(self, ttl: str = "21600") -> str:
        status, headers, body = http("PUT", self.imds.endpoint + "/latest/api/token", b"",
                                     {"X-aws-ec2-metadata-token-ttl-seconds": ttl})
        self.assertEqual(status, 200)
        token = body.decode()
        remember(token)
        return token

    def get(self, path: str, token: str | None) -> tuple[int, bytes]:
        headers = {"X-aws-ec2-metadata-token": token} if token else {}
        status, _, body = http("GET", self.imds.endpoint + path, None, headers)
        return status, body

    def test_token_ttl_is_bounded_and_xff_refused(self) -> None:
        for ttl in (None, "0", "21601", "-5", "abc"):
            headers = {} if ttl is None else {"X-aws-ec2-metadata-token-ttl-seconds": ttl}
            with self.subTest(ttl=ttl):
                self.assertEqual(http("PUT", self.imds.endpoint + "/latest/api/token", b"", headers)[0], 400)
        self.token("1")
        status = http("PUT", self.imds.endpoint + "/latest/api/token", b"",
                      {"X-aws-ec2-metadata-token-ttl-seconds": "60", "X-Forwarded-For": "10.0.0.1"})[0]
        self.assertEqual(status, 403)
        token = self.token()
        status = http("GET", self.imds.endpoint + "/latest/meta-data/placement/region", None,
                      {"X-aws-ec2-metadata-token": token, "X-Forwarded-For": "10.0.0.1"})[0]
        self.assertEqual(status, 403)

    def test_get_without_or_with_bad_token_is_401(self) -> None:
        self.assertEqual(self.get("/latest/meta-data/iam/security-credentials/", None)[0], 401)
        self.assertEqual(self.get("/latest/meta-data/iam/security-credentials/", "AQAEAbogus")[0], 401)
        token = self.token()
        self.assertEqual(self.imds.expire_tokens() >= 1, True)
        self.assertEqual(self.get("/latest/meta-data/placement/region", token)[0], 401)

    def test_credentials_with_token_work_against_the_fake(self) -> None:
        assert AWS is not None
        token = self.token()
        status, body = self.get("/latest/meta-data/iam/security-credentials/", token)
        self.assertEqual((status, body.decode()), (200, "ecr-renew-node"))
        self.assertEqual(self.get("/latest/meta-data/placement/region", token), (200, AWS.region.encode()))
        status, body = self.get("/latest/meta-data/iam/security-credentials/ecr-renew-node", token)
        self.assertEqual(status, 200)
        doc = json.loads(body)
        remember(doc["SecretAccessKey"], doc["Token"])
        self.assertEqual(doc["Code"], "Success")
        self.assertEqual(doc["Type"], "AWS-HMAC")
        for key in ("AccessKeyId", "SecretAccessKey", "Token", "Expiration", "LastUpdated"):
            self.assertIn(key, doc)
        data = AWS.client("ecr", credentials=doc).get_authorization_token()["authorizationData"]
        remember(data[0]["authorizationToken"])
        with self.assertRaises(Exception) as ctx:
            AWS.client("iam", credentials=doc).list_users()
        self.assertEqual(error_code(ctx.exception), ("AccessDenied", 403))
        self.assertEqual(self.get("/latest/meta-data/iam/security-credentials/other-role", token)[0], 404)

    def test_cli_uses_imds(self) -> None:
        assert AWS is not None
        proc = run_cli(["sts", "get-caller-identity", "--output", "json"], AWS.env(imds=self.imds))
        self.assertEqual(proc.returncode, 0, redact(proc.stderr))
        self.assertIn(":assumed-role/ecr-renew-node/", json.loads(proc.stdout)["Arn"])
        log = self.imds.requests()
        self.assertTrue(any(e["route"] == "token" and e["status"] == 200 for e in log))
        self.assertTrue(any(e["route"] == "credentials" and e["status"] == 200 for e in log))

    def test_imds_faults(self) -> None:
        self.imds.inject_fault("token", "500", count=1)
        status = http("PUT", self.imds.endpoint + "/latest/api/token", b"",
                      {"X-aws-ec2-metadata-token-ttl-seconds": "60"})[0]
        self.assertEqual(status, 500)
        self.token()


class ContainerCredsTests(unittest.TestCase):
    cc: harness.FakeContainerCreds

    @classmethod
    def setUpClass(cls) -> None:
        assert AWS is not None
        cls.cc = harness.FakeContainerCreds(AWS).start()
        remember(cls.cc.token)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.cc.cleanup()

    def fetch(self, authorization: str | None) -> tuple[int, dict]:
        headers = {} if authorization is None else {"Authorization": authorization}
        status, _, body = http("GET", self.cc.full_uri, None, headers)
        return status, json.loads(body)

    def test_missing_or_wrong_authorization_is_refused(self) -> None:
        status, body = self.fetch(None)
        self.assertEqual(status, 401)
        self.assertIn("message", body)
        self.assertEqual(self.fetch(self.cc.token + "x")[0], 403)
        self.assertEqual(self.fetch("Bearer " + self.cc.token)[0], 403)  # exact match, no scheme
        self.assertEqual([e["authorization"] for e in self.cc.requests()[-3:]], ["missing", "wrong", "wrong"])

    def test_right_token_gives_working_credentials(self) -> None:
        assert AWS is not None
        status, doc = self.fetch(self.cc.token)
        self.assertEqual(status, 200)
        remember(doc["SecretAccessKey"], doc["Token"])
        self.assertEqual(doc["AccountId"], AWS.account_id)
        self.assertRegex(doc["Expiration"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        data = AWS.client("ecr", credentials=doc).get_authorization_token()["authorizationData"]
        remember(data[0]["authorizationToken"])
        with self.assertRaises(Exception) as ctx:
            AWS.client("iam", credentials=doc).list_users()
        self.assertEqual(error_code(ctx.exception), ("AccessDenied", 403))

    def test_token_rotation_and_cli(self) -> None:
        assert AWS is not None
        old = self.cc.token
        self.cc.set_token("eyJrotated." + os.urandom(16).hex())
        remember(self.cc.token)
        self.assertEqual(self.fetch(old)[0], 403)
        proc = run_cli(["sts", "get-caller-identity", "--output", "json"], AWS.env(container=self.cc))
        self.assertEqual(proc.returncode, 0, redact(proc.stderr))
        self.assertIn(":assumed-role/ecr-renew-node/", json.loads(proc.stdout)["Arn"])

    def test_role_without_ecr_permission(self) -> None:
        assert AWS is not None
        with harness.FakeContainerCreds(AWS, role="ecr-renew-noecr") as cc:
            status, _, body = http("GET", cc.full_uri, None, {"Authorization": cc.token})
            remember(cc.token)
            self.assertEqual(status, 200)
            doc = json.loads(body)
            remember(doc["SecretAccessKey"], doc["Token"])
            with self.assertRaises(Exception) as ctx:
                AWS.client("ecr", credentials=doc).get_authorization_token()
            self.assertEqual(error_code(ctx.exception), ("AccessDeniedException", 400))


class NoSecretsInLogsTests(unittest.TestCase):
    def test_request_logs_hold_no_secret_value(self) -> None:
        assert AWS is not None
        # Make sure every kind of secret has gone over the wire at least once.
        with harness.FakeImds(AWS) as imds, harness.FakeContainerCreds(AWS) as cc:
            remember(cc.token)
            token = http("PUT", imds.endpoint + "/latest/api/token", b"",
                         {"X-aws-ec2-metadata-token-ttl-seconds": "60"})[2].decode()
            remember(token)
            status, _, body = http("GET", imds.endpoint + "/latest/meta-data/iam/security-credentials/ecr-renew-node",
                                   None, {"X-aws-ec2-metadata-token": token})
            doc = json.loads(body)
            remember(doc["SecretAccessKey"], doc["Token"])
            AWS.client("ecr", credentials=doc).get_authorization_token()
            status, _, body = http("GET", cc.full_uri, None, {"Authorization": cc.token})
            remember(json.loads(body)["SecretAccessKey"], json.loads(body)["Token"])
            jwt = AWS.mint_jwt(sub=IRSA_SUB)
            remember(jwt)
            result = AWS.client("sts", signed=False).assume_role_with_web_identity(
                RoleArn=AWS.role_arn("ecr-renew-irsa"), RoleSessionName="ecr-renew", WebIdentityToken=jwt)
            remember(result["Credentials"]["SecretAccessKey"], result["Credentials"]["SessionToken"])
            data = AWS.client("ecr", credentials=result["Credentials"]).get_authorization_token()
            token_b64 = data["authorizationData"][0]["authorizationToken"]
            remember(token_b64, decode_ecr_password(token_b64))
            public = AWS.client("ecr-public", credentials=AWS.keys("ecr-public-reader"),
                                region="us-east-1").get_authorization_token()
            token_b64 = public["authorizationData"]["authorizationToken"]
            remember(token_b64, decode_ecr_password(token_b64))
            logs = {"fake_aws": AWS.requests(), "fake_imds": imds.requests(), "fake_container_creds": cc.requests()}
            stderr = {}
            for fake in (AWS, imds, cc):
                with open(fake.stderr_path, encoding="utf-8", errors="replace") as fh:
                    stderr[fake.name] = fh.read()
        self.assertTrue(all(logs.values()), "every fake should have logged requests")
        self.assertGreater(len(SECRETS), 10)
        for name, entries in logs.items():
            dumped = json.dumps(entries)
            leaked = [v for v in SECRETS if len(v) >= 16 and v in dumped]
            self.assertTrue(not leaked, f"{name}'s request log holds {len(leaked)} secret value(s)")
        for name, text in stderr.items():
            leaked = [v for v in SECRETS if len(v) >= 16 and v in text]
            self.assertTrue(not leaked, f"{name}'s stderr holds {len(leaked)} secret value(s)")


if __name__ == "__main__":
    unittest.main()

"""The AWS side of ecr-renew against moto with IAM enforced.

Each credential source of the SDK chain is exercised for real: static
keys, web identity (IRSA) through unsigned AssumeRoleWithWebIdentity,
shared files with a non-default profile and a role chain, EKS Pod
Identity and IMDSv2 through strict local stand-ins. login must print
exactly what `aws ecr get-login-password` prints.
"""

import base64
import json
import os
import subprocess
import tempfile

from tests.integration.common import (EXIT_AWS, EXIT_CONFIG, EXIT_NETWORK, EXIT_NO_CREDS,
                                      EXIT_OK, EXIT_USAGE, ToolTestCase, aws_harness)


def read(path):
    with open(path) as f:
        return f.read()


class AwsTestCase(ToolTestCase):
    @classmethod
    def setUpClass(cls):
        cls.start_aws()
        cls.password = cls.current_password()

    @classmethod
    def current_password(cls, region=None):
        ecr = cls.aws.client("ecr", user="ecr-reader", region=region)
        token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
        return base64.b64decode(token).decode().split(":", 1)[1]

    def setUp(self):
        super().setUp()
        self.aws.clear_requests()
        self.aws.clear_faults()
        for user in ("ecr-reader", "no-perms", "admin"):
            self.remember_secret(self.aws.keys(user)[1])
        self.remember_secret(self.password)
        self.tmp = tempfile.mkdtemp(prefix="ecr-renew-it-")

    def ecr_calls(self):
        return [r for r in self.aws.requests() if r["action"] == "GetAuthorizationToken"]

    def login(self, env, *args):
        return self.run_tool(["login"] + list(args), env, stdout_may_hold_secrets=True)


class StaticKeysTest(AwsTestCase):
    def test_login__reader_keys__prints_what_the_aws_cli_prints(self):
        env = self.aws.env(user="ecr-reader")
        cli = subprocess.run(["aws", "ecr", "get-login-password"], env=env,
                             capture_output=True, text=True)
        self.assertEqual(cli.returncode, 0, "the AWS CLI itself failed")
        ours = self.login(env)
        self.assertExit(ours, EXIT_OK)
        self.assertTrue(ours.stdout == cli.stdout, "login output differs from the AWS CLI's")
        self.assertEqual(ours.stderr, "")
        call = self.ecr_calls()[-1]
        self.assertEqual(call["signed_headers"],
                         ["content-type", "host", "x-amz-date", "x-amz-target"])
        self.assertEqual(call["principal"], "arn:aws:iam::%s:user/ecr-reader" % self.aws.account_id)

    def test_login__wrong_secret_key__fails_with_signature_error_and_fix(self):
        env = self.aws.env(user="ecr-reader")
        env["AWS_SECRET_ACCESS_KEY"] = "wJalrXUtnFEMIK7MDENGbPxRfiCYzzzzzzzzzzzz"
        self.remember_secret(env["AWS_SECRET_ACCESS_KEY"])
        proc = self.login(env)
        self.assertExit(proc, EXIT_AWS)
        self.assertEqual(proc.stdout, "")
        self.assertRegex(proc.stderr, r"GetAuthorizationToken in us-east-1: "
                                      r"(InvalidSignatureException|SignatureDoesNotMatch)")
        self.assertIn("secret access key does not belong to the access key id", proc.stderr)
        self.assertEqual(len(self.ecr_calls()), 1, "an auth error must not be retried")

    def test_login__user_without_permission__access_denied_names_the_grant(self):
        proc = self.login(self.aws.env(user="no-perms"))
        self.assertExit(proc, EXIT_AWS)
        self.assertIn("AccessDenied", proc.stderr)
        self.assertIn('grant the principal ecr:GetAuthorizationToken on Resource "*"', proc.stderr)
        self.assertEqual(len(self.ecr_calls()), 1)

    def test_login__unknown_key__names_the_key_problem(self):
        env = self.aws.env(credentials=("AKIAIOSFODNN7EXAMPLE", "x" * 40))
        proc = self.login(env)
        self.assertExit(proc, EXIT_AWS)
        self.assertRegex(proc.stderr, r"(UnrecognizedClientException|InvalidClientTokenId)")
        self.assertIn("AWS does not know this access key id", proc.stderr)

    def test_docker_config__two_registry_ids__two_auths_entries(self):
        env = self.aws.env(user="ecr-reader")
        proc = self.run_tool(["docker-config", "--registry-id", "111111111111",
                              "--registry-id", "222222222222"], env,
                             stdout_may_hold_secrets=True)
        self.assertExit(proc, EXIT_OK)
        auths = json.loads(proc.stdout)["auths"]
        hosts = sorted(auths)
        self.assertEqual(hosts, ["111111111111.dkr.ecr.us-east-1.amazonaws.com",
                                 "222222222222.dkr.ecr.us-east-1.amazonaws.com"])
        for host in hosts:
            entry = auths[host]
            self.assertEqual(entry["username"], "AWS")
            self.assertGreater(len(entry["password"]), 1000)
            self.assertEqual(base64.b64decode(entry["auth"]).decode(),
                             "AWS:" + entry["password"])
            self.assertNotIn("\n", entry["auth"])
        self.assertEqual(len(self.ecr_calls()), 1, "one call per region")
        self.assertEqual(self.ecr_calls()[0]["params"],
                         {"registryIds": ["111111111111", "222222222222"]})

    def test_docker_config__two_regions__one_call_per_region(self):
        env = self.aws.env(user="ecr-reader")
        proc = self.run_tool(["docker-config", "--region", "us-east-1,eu-west-1"], env,
                             stdout_may_hold_secrets=True)
        self.assertExit(proc, EXIT_OK)
        calls = self.ecr_calls()
        auths = json.loads(proc.stdout)["auths"]
        self.assertEqual(sorted(auths), sorted([self.aws.registry_host("us-east-1"),
                                                self.aws.registry_host("eu-west-1")]))
        self.assertTrue(auths[self.aws.registry_host("eu-west-1")]["password"] ==
                        self.current_password("eu-west-1"), "eu-west-1 has its own password")
        self.assertEqual(sorted(c["region"] for c in calls), ["eu-west-1", "us-east-1"])

    def test_docker_config__output_file__private_and_complete(self):
        path = os.path.join(self.tmp, "config.json")
        proc = self.run_tool(["docker-config", "-o", path], self.aws.env(user="ecr-reader"))
        self.assertExit(proc, EXIT_OK)
        self.assertEqual(proc.stdout, "")
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        with open(path) as f:
            auths = json.load(f)["auths"]
        self.assertTrue(auths[self.aws.registry_host()]["password"] == self.password)


class RetryTest(AwsTestCase):
    def test_login__throttled_twice__retries_and_succeeds(self):
        self.aws.inject_fault("GetAuthorizationToken", "throttle", count=2)
        proc = self.login(self.aws.env(user="ecr-reader"))
        self.assertExit(proc, EXIT_OK)
        self.assertTrue(proc.stdout.strip() == self.password)
        self.assertEqual(len(self.ecr_calls()), 3)
        self.assertIn("retrying AWS call", proc.stderr)
        self.assertIn("ThrottlingException", proc.stderr)

    def test_login__server_error_and_dropped_connection__retried(self):
        self.aws.inject_fault("GetAuthorizationToken", "500", count=1)
        self.aws.inject_fault("GetAuthorizationToken", "drop", count=1)
        proc = self.login(self.aws.env(user="ecr-reader"))
        self.assertExit(proc, EXIT_OK)
        self.assertTrue(proc.stdout.strip() == self.password)

    def test_login__throttled_for_ever__gives_up_with_network_status(self):
        self.aws.inject_fault("GetAuthorizationToken", "throttle", count=50)
        proc = self.login(self.aws.env(user="ecr-reader"))
        self.assertExit(proc, EXIT_NETWORK)
        self.assertIn("after 5 attempts", proc.stderr)
        self.assertEqual(len(self.ecr_calls()), 5, "retries are bounded")


class WebIdentityTest(AwsTestCase):
    def test_login__irsa_token__assumes_role_unsigned_then_signs_with_session(self):
        token_file = self.aws.write_token_file()
        self.remember_secret(read(token_file))
        env = self.aws.env(web_identity=(self.aws.role_arn("ecr-renew-irsa"), token_file))
        proc = self.login(env)
        self.assertExit(proc, EXIT_OK)
        self.assertTrue(proc.stdout.strip() == self.password)
        assume, ecr = self.aws.requests()[-2:]
        self.assertEqual(assume["action"], "AssumeRoleWithWebIdentity")
        self.assertFalse(assume["signed"], "STS web identity is called unsigned, as the SDKs do")
        self.assertEqual(assume["params"]["RoleArn"], self.aws.role_arn("ecr-renew-irsa"))
        self.assertTrue(ecr["session_token"])
        self.assertIn("x-amz-security-token", ecr["signed_headers"])
        self.assertTrue(ecr["principal"].endswith(":assumed-role/ecr-renew-irsa/ecr-renew"))

    def test_login__token_of_another_service_account__refused_with_trust_hint(self):
        token_file = self.aws.write_token_file(sub="system:serviceaccount:default:other")
        self.remember_secret(read(token_file))
        env = self.aws.env(web_identity=(self.aws.role_arn("ecr-renew-irsa"), token_file))
        proc = self.login(env)
        self.assertExit(proc, EXIT_AWS)
        self.assertIn("AssumeRoleWithWebIdentity", proc.stderr)
        self.assertIn("AccessDenied", proc.stderr)
        self.assertIn("trust policy", proc.stderr)
        self.assertEqual(self.ecr_calls(), [])

    def test_login__expired_token__says_expired(self):
        token_file = self.aws.write_token_file(expires_in=-60)
        self.remember_secret(read(token_file))
        env = self.aws.env(web_identity=(self.aws.role_arn("ecr-renew-irsa"), token_file))
        proc = self.login(env)
        self.assertExit(proc, EXIT_AWS)
        self.assertIn("ExpiredToken", proc.stderr)

    def test_login__token_file_missing__names_the_file(self):
        missing = os.path.join(self.tmp, "no-token")
        env = self.aws.env(web_identity=(self.aws.role_arn("ecr-renew-irsa"), missing))
        proc = self.login(env)
        self.assertExit(proc, EXIT_CONFIG)
        self.assertIn(missing, proc.stderr)
        self.assertIn("No such file", proc.stderr)


class SharedFilesTest(AwsTestCase):
    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_login__non_default_profile__uses_its_keys(self):
        akid, secret = self.aws.keys("ecr-reader")
        creds = self.write("credentials", "[default]\naws_access_key_id = AKIADEFAULTDEFAULT00\n"
                           "aws_secret_access_key = nope\n\n[ci]\naws_access_key_id = %s\n"
                           "aws_secret_access_key = %s\n" % (akid, secret))
        env = self.aws.env(extra={"AWS_SHARED_CREDENTIALS_FILE": creds, "AWS_PROFILE": "ci"})
        proc = self.login(env)
        self.assertExit(proc, EXIT_OK)
        self.assertTrue(proc.stdout.strip() == self.password)
        self.assertEqual(self.ecr_calls()[-1]["access_key_id"], akid)

    def test_login__profile_role_chain__assumes_role_with_source_profile(self):
        akid, secret = self.aws.keys("admin")
        creds = self.write("credentials", "[base]\naws_access_key_id = %s\n"
                           "aws_secret_access_key = %s\n" % (akid, secret))
        config = self.write("config", "[profile deploy]\nrole_arn = %s\nsource_profile = base\n"
                            "role_session_name = ci-run\n" % self.aws.role_arn("ecr-renew-node"))
        env = self.aws.env(extra={"AWS_SHARED_CREDENTIALS_FILE": creds, "AWS_CONFIG_FILE": config,
                                  "AWS_PROFILE": "deploy"})
        proc = self.login(env)
        self.assertExit(proc, EXIT_OK)
        assume = [r for r in self.aws.requests() if r["action"] == "AssumeRole"][-1]
        self.assertTrue(assume["signed"])
        self.assertEqual(assume["params"]["RoleSessionName"], "ci-run")
        self.assertTrue(self.ecr_calls()[-1]["principal"].endswith("assumed-role/ecr-renew-node/ci-run"))

    def test_login__profile_named_but_absent__config_error(self):
        env = self.aws.env(extra={"AWS_PROFILE": "nosuch"})
        proc = self.login(env)
        self.assertExit(proc, EXIT_CONFIG)
        self.assertIn("profile nosuch is in neither", proc.stderr)

    def test_login__malformed_credentials_file__names_file_and_line(self):
        creds = self.write("credentials", "[default]\naws_access_key_id = AKIA\nthis is not ini\n")
        env = self.aws.env(extra={"AWS_SHARED_CREDENTIALS_FILE": creds})
        proc = self.login(env)
        self.assertExit(proc, EXIT_CONFIG)
        self.assertIn("%s:3:" % creds, proc.stderr)

    def test_login__region_from_profile(self):
        config = self.write("config", "[default]\nregion = eu-west-1\n")
        env = self.aws.env(user="ecr-reader", extra={"AWS_CONFIG_FILE": config})
        del env["AWS_REGION"], env["AWS_DEFAULT_REGION"]
        proc = self.login(env)
        self.assertExit(proc, EXIT_OK)
        self.assertEqual(self.ecr_calls()[-1]["region"], "eu-west-1")


class MetadataTest(AwsTestCase):
    def test_login__pod_identity__token_file_sent_and_credentials_used(self):
        with aws_harness.FakeContainerCreds(self.aws) as agent:
            agent.set_token(agent.token, trailing_newline=True)  # the agent's file has one
            self.remember_secret(agent.token)
            proc = self.login(self.aws.env(container=agent))
            self.assertExit(proc, EXIT_OK)
            self.assertTrue(proc.stdout.strip() == self.password)
            self.assertEqual(agent.requests()[-1]["status"], 200)
            self.assertTrue(self.ecr_calls()[-1]["principal"].endswith("assumed-role/ecr-renew-node/"
                                                                       + self.ecr_calls()[-1]["principal"].rsplit("/", 1)[1]))
            self.assertTrue(self.ecr_calls()[-1]["session_token"])

    def test_login__pod_identity_wrong_token__refused_with_status(self):
        with aws_harness.FakeContainerCreds(self.aws) as agent:
            self.remember_secret(agent.token)
            env = self.aws.env(container=agent)
            wrong = os.path.join(self.tmp, "wrong-token")
            with open(wrong, "w") as f:
                f.write("not-the-agent-token")
            env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = wrong
            proc = self.login(env)
            self.assertExit(proc, EXIT_AWS)
            self.assertIn("container credentials endpoint", proc.stderr)
            self.assertIn("HTTP 403", proc.stderr)

    def test_login__plain_http_container_uri_off_host__refused(self):
        env = self.aws.env(extra={"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://192.0.2.10/creds"})
        proc = self.login(env)
        self.assertExit(proc, EXIT_USAGE)
        self.assertIn("plain http is only allowed to loopback", proc.stderr)

    def test_login__imdsv2__token_then_role_then_credentials(self):
        with aws_harness.FakeImds(self.aws) as imds:
            env = self.aws.env(imds=imds)
            proc = self.login(env)
            self.assertExit(proc, EXIT_OK)
            self.assertTrue(proc.stdout.strip() == self.password)
            seen = [(r["method"], r["path"]) for r in imds.requests()]
            self.assertEqual(seen[0], ("PUT", "/latest/api/token"))
            self.assertIn(("GET", "/latest/meta-data/iam/security-credentials/"), seen)
            self.assertTrue(all(r["status"] == 200 for r in imds.requests()))

    def test_login__imds_region__used_when_no_region_is_set(self):
        with aws_harness.FakeImds(self.aws, region="eu-central-1") as imds:
            env = self.aws.env(imds=imds)
            del env["AWS_REGION"], env["AWS_DEFAULT_REGION"]
            proc = self.login(env)
            self.assertExit(proc, EXIT_OK)
            self.assertEqual(self.ecr_calls()[-1]["region"], "eu-central-1")


class NoCredentialsTest(AwsTestCase):
    def test_login__nothing_configured__lists_every_source_and_why(self):
        env = self.aws.env()
        proc = self.login(env)
        self.assertExit(proc, EXIT_NO_CREDS)
        for source in ("1. environment:", "2. web identity:", "3. shared files:",
                       "4. container credentials:", "5. instance metadata (IMDSv2):"):
            self.assertIn(source, proc.stderr)
        self.assertIn("AWS_EC2_METADATA_DISABLED is true", proc.stderr)

    def test_login__half_set_keys__names_the_missing_variable(self):
        env = self.aws.env(extra={"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE"})
        proc = self.login(env)
        self.assertExit(proc, EXIT_CONFIG)
        self.assertIn("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not", proc.stderr)

    def test_usage_errors__exit_2(self):
        env = self.aws.env(user="ecr-reader")
        for args, text in ((["login", "--bogus"], "unknown"),
                           (["login", "--region", "a,b"], "at most one --region"),
                           (["docker-config", "--registry-id", "12"], "12-digit"),
                           (["login", "--region", "US EAST"], "invalid AWS region"),
                           (["frobnicate"], "unknown command")):
            proc = self.run_tool(args, env)
            self.assertExit(proc, EXIT_USAGE, " ".join(args))
            self.assertIn(text, proc.stderr)


class ProxyTest(AwsTestCase):
    """http_proxy / NO_PROXY with libcurl's rules, through a logging proxy."""

    def start_proxy(self):
        import http.client
        import http.server
        import threading
        import urllib.parse

        seen = []

        class Forward(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                target = urllib.parse.urlsplit(self.path)  # absolute URI from a proxy client
                seen.append((self.command, target.netloc))
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("proxy-connection", "connection")}
                conn.request("POST", target.path or "/", body, headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Forward)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        return "http://127.0.0.1:%d" % server.server_address[1], seen

    def test_login__http_proxy__requests_go_through_it_unless_no_proxy(self):
        proxy, seen = self.start_proxy()
        env = self.aws.env(user="ecr-reader")
        for k in ("NO_PROXY", "no_proxy"):
            env.pop(k, None)
        env["http_proxy"] = proxy
        proc = self.login(env)
        self.assertExit(proc, EXIT_OK)
        self.assertTrue(proc.stdout.strip() == self.password)
        self.assertEqual(seen, [("POST", "127.0.0.1:%d" % self.aws.port)])
        env["NO_PROXY"] = "127.0.0.1"
        proc = self.login(env)
        self.assertExit(proc, EXIT_OK)
        self.assertEqual(len(seen), 1, "NO_PROXY bypasses the proxy")

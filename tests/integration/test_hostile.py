"""ecr-renew tried as an attacker would, against the HOSTILE FAKE (tests/fakes/hostile).

One HostileServer per class, reset before every test. Every run goes through
HostileCase.check_run (hostile_common.py), which asserts on every run, besides the
case's own exit status and message: bounded wall time, peak RSS under 64 MiB (not
under ECR_RENEW_SANITIZED=1), no secret in any output, nothing written to the API
server unless the case is a successful write, no connection to the canary host, no
smuggled header in any request, and well-formed stderr lines.

Test names: test_<class>__<case>__<expected>. Wall bounds: DEFAULT_WALL (5 s, a
normal run takes ~30 ms) unless a case is about time running out, where the bound is
the --timeout given plus 3-4 s of slack for the last wait to notice and exit.

    ECR_RENEW_BIN=build/ecr-renew python3 -m unittest tests.integration.test_hostile -v
"""

from __future__ import annotations

import base64
import datetime
import gzip
import json
import os
import re
import secrets
import stat
import time

from tests.integration.common import (EXIT_AWS, EXIT_CONFIG, EXIT_KUBE, EXIT_NETWORK, EXIT_OK,
                                      EXIT_USAGE)
from tests.integration.hostile_common import (ACCOUNT, CRLF_SMUGGLE, REGISTRY, SECRET_NAME, HostileCase,
                                              closed_port)

SYNC = ["sync", "-n", "runtime"]
FORGED = "2026-01-01T00:00:00Z error forged"
ECR_JSON = "application/x-amz-json-1.1"
# The product says "the answer is larger than N KiB, more than a real one needs" for a body
# that grows past the cap, "announces more than N KiB, ..." when Content-Length says so.
CAP_256K = "256 KiB, more than a real one needs"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def periodic_password(length: int) -> tuple[str, str]:
    """A random-looking password of `length` characters built from a 64-character unit, and
    the text to plant (two units: every 16-character piece of the password is in it)."""
    unit = secrets.token_urlsafe(48)[:64]
    return (unit * (length // len(unit) + 1))[:length], unit * 2


def secret_auths(secret: dict) -> dict:
    return json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))["auths"]


# ---------------------------------------------------------------------------------------
# Header smuggling: a credential value with CR/LF must never become header lines.
# ---------------------------------------------------------------------------------------

class SmugglingTest(HostileCase):
    def assert_no_ecr_request(self, run):
        self.assertEqual(len([e for e in run.requests if e["role"] == "ecr"]), 0,
                         "an ECR request was sent with the tainted credentials: " + self.describe(run))

    def assert_no_kube_request(self, run):
        self.assertEqual(len([e for e in run.requests if e["role"] == "kube"]), 0,
                         "a kube request was sent with the tainted token: " + self.describe(run))

    def test_smuggling__sts_session_token_crlf__exit6_no_ecr_request(self):
        token = "FwoGZXIvYXdzEHostileStsSessionToken" + secrets.token_hex(8)
        self.plant(token)
        self.rule("sts", "fields", SessionToken=token + CRLF_SMUGGLE)
        run = self.check_run(SYNC, self.env("web_identity"), exit=EXIT_NETWORK,
                             messages=["session token holds a control character"])
        self.assert_no_ecr_request(run)

    def test_smuggling__sts_access_key_id_crlf__exit6_no_ecr_request(self):
        self.rule("sts", "fields", AccessKeyId="ASIAHOSTILEFAKEKEY01" + CRLF_SMUGGLE)
        run = self.check_run(SYNC, self.env("web_identity"), exit=EXIT_NETWORK, messages=["control character"])
        self.assert_no_ecr_request(run)

    def test_smuggling__container_token_crlf__exit6_no_ecr_request(self):
        token = "IQoJb3JpZ2luHostileContainerToken" + secrets.token_hex(8)
        self.plant(token)
        self.rule("container", "fields", Token=token + CRLF_SMUGGLE)
        run = self.check_run(SYNC, self.env("container"), exit=EXIT_NETWORK,
                             messages=["session token holds a control character"])
        self.assert_no_ecr_request(run)

    def test_smuggling__imds_session_token_crlf__exit6_no_ecr_request(self):
        token = "AQAEAHostileImdsSessionToken" + secrets.token_hex(8)
        self.plant(token)
        self.rule("imds", "fields", fields={"token": token + CRLF_SMUGGLE})
        run = self.check_run(SYNC, self.env("imds"), exit=EXIT_NETWORK, messages=["IMDSv2 token"])
        self.assert_no_ecr_request(run)

    def test_smuggling__exec_plugin_token_crlf__exit6_no_kube_request(self):
        token = "hostile-exec-token-" + secrets.token_hex(8)
        self.plant(token)
        cred = {"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential",
                "status": {"token": token + CRLF_SMUGGLE}}
        kubeconfig = self.exec_kubeconfig("cat <<'EOF'\n%s\nEOF\n" % json.dumps(cred))
        run = self.check_run(SYNC, self.env(KUBECONFIG=kubeconfig), exit=EXIT_NETWORK,
                             messages=["status.token holds a control character"])
        self.assert_no_kube_request(run)

    def test_smuggling__in_cluster_token_crlf__exit3_no_kube_request(self):
        token = "hostile-incluster-token-" + secrets.token_hex(8)
        self.plant(token)
        sa = self.path("serviceaccount")
        os.mkdir(sa)
        with open(os.path.join(sa, "token"), "w") as f:
            f.write(token + CRLF_SMUGGLE + "\n")
        with open(self.hs.ca_file, "rb") as src, open(os.path.join(sa, "ca.crt"), "wb") as dst:
            dst.write(src.read())
        with open(os.path.join(sa, "namespace"), "w") as f:
            f.write("default")
        env = self.env(drop=("KUBECONFIG",), KUBERNETES_SERVICE_HOST="127.0.0.1",
                       KUBERNETES_SERVICE_PORT=str(self.hs.https_port), ECR_RENEW_SERVICEACCOUNT_DIR=sa)
        run = self.check_run(SYNC, env, exit=EXIT_CONFIG, messages=["control character"])
        self.assert_no_kube_request(run)

    def test_smuggling__kubeconfig_token_crlf_yaml_escape__exit3_no_kube_request(self):
        token = "hostile-kubeconfig-token-" + secrets.token_hex(8)
        self.plant(token)
        yaml = ("apiVersion: v1\nkind: Config\nclusters:\n- name: hostile\n  cluster:\n"
                f"    server: {self.hs.kube_url}\n    certificate-authority: {self.hs.ca_file}\n"
                f"users:\n- name: hostile\n  user:\n    token: \"{token}\\r\\nX-Smuggled: 1\"\n"
                "contexts:\n- name: hostile\n  context:\n    cluster: hostile\n    user: hostile\n"
                "current-context: hostile\n")
        kubeconfig = self.write_file("kubeconfig.yaml", yaml)
        run = self.check_run(SYNC, self.env(KUBECONFIG=kubeconfig), exit=EXIT_CONFIG)
        self.assert_no_kube_request(run)

    def test_smuggling__aws_session_token_env_newline__exit3_no_ecr_request(self):
        token = "IQoJb3JpZ2luHostileEnvSessionToken" + secrets.token_hex(8)
        self.plant(token)
        run = self.check_run(SYNC, self.env("static", AWS_SESSION_TOKEN=token + "\nX-Smuggled: 1"),
                             exit=EXIT_CONFIG)
        self.assert_no_ecr_request(run)


# ---------------------------------------------------------------------------------------
# Memory amplification: answers and files of valid but tiny nodes, and plain big ones.
# ---------------------------------------------------------------------------------------

class MemoryTest(HostileCase):
    def test_memory__ecr_200kb_tiny_objects__exit6_bounded_rss(self):
        self.rule("ecr", "generate", generator="json_tiny_objects", bytes=200_000)
        self.check_run(SYNC, exit=EXIT_NETWORK)

    def test_memory__ecr_5mb_answer__exit6_larger_than_256kib(self):
        self.rule("ecr", "generate", generator="json_tiny_objects", bytes=5 << 20)
        # Content-Length announces it: "announces more than 256 KiB, more than a real one needs".
        self.check_run(SYNC, exit=EXIT_NETWORK, messages=[CAP_256K])

    def test_memory__ecr_5mb_chunked_answer__exit6_larger_than(self):
        self.rule("ecr", "generate", generator="json_tiny_objects", bytes=5 << 20, chunked=True)
        self.check_run(SYNC, exit=EXIT_NETWORK, messages=["larger than " + CAP_256K])

    def test_memory__kube_get_3_5mb_tiny_objects__exit6_bounded_rss(self):
        self.rule("kube", "generate", method="GET", path_regex="/secrets/", generator="json_tiny_objects",
                  bytes=3_500_000)
        self.check_run(SYNC, exit=EXIT_NETWORK)

    def test_memory__kube_get_20mb__refused_larger_than(self):
        self.rule("kube", "generate", method="GET", path_regex="/secrets/", generator="json_tiny_objects",
                  bytes=20 << 20)
        self.check_run(SYNC, exit="nonzero", messages=["KiB, more than a real one needs"])

    def test_memory__kubeconfig_3mb_tiny_yaml_nodes__exit3_nodes(self):
        doc = ("apiVersion: v1\nkind: Config\nclusters:\n- name: hostile\n  cluster:\n"
               f"    server: {self.hs.kube_url}\n    certificate-authority: {self.hs.ca_file}\n"
               "users:\n- name: hostile\n  user:\n    token: hostile-unused\n"
               "contexts:\n- name: hostile\n  context:\n    cluster: hostile\n    user: hostile\n"
               "current-context: hostile\njunk:\n" + "- a\n" * (3_000_000 // 4))
        kubeconfig = self.write_file("kubeconfig-nodes.yaml", doc)
        run = self.check_run(SYNC, self.env(KUBECONFIG=kubeconfig), exit=EXIT_CONFIG, messages=["nodes"])
        self.assertEqual(len(run.requests), 0, "a broken kubeconfig costs no request")

    def test_memory__sts_1mb_xml_answer__exit6(self):
        ns = "https://sts.amazonaws.com/doc/2011-06-15/"
        body = (f'<AssumeRoleWithWebIdentityResponse xmlns="{ns}"><AssumeRoleWithWebIdentityResult>'
                + "<x/>" * (1_000_000 // 4)
                + "</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>")
        self.rule("sts", "raw", status=200, content_type="text/xml", body=body)
        self.check_run(SYNC, self.env("web_identity"), exit=EXIT_NETWORK)


# ---------------------------------------------------------------------------------------
# Crash and large: a big password, a Secret beyond the API server's object limit.
# ---------------------------------------------------------------------------------------

class LargeTest(HostileCase):
    def test_large__ecr_password_3mb__exit6_no_signal_larger_than(self):
        password, planted = periodic_password(3_000_000)
        self.plant(planted)
        self.rule("ecr", "fields", password_bytes_b64=b64(password.encode()))
        self.check_run(SYNC, exit=EXIT_NETWORK, messages=[CAP_256K])

    def test_large__six_regions_190kb_passwords__exit7_over_1024kib_no_write(self):
        password, planted = periodic_password(190_000)
        self.plant(planted)
        self.rule("ecr", "fields", password=password)
        regions = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1"]
        args = SYNC + [a for r in regions for a in ("--region", r)]
        self.check_run(args, exit=EXIT_KUBE, messages=["more than the 1024 KiB the API server allows"])


# ---------------------------------------------------------------------------------------
# Time: every wait is bounded by --timeout (or ECR_RENEW_TIMEOUT).
# ---------------------------------------------------------------------------------------

class TimeTest(HostileCase):
    def test_time__ecr_drip_one_byte_per_2s_timeout_6s__exit6_deadline_within_10s(self):
        self.rule("ecr", "drip", interval_ms=2000)
        self.check_run(SYNC + ["--timeout", "6s"], exit=EXIT_NETWORK, messages=["deadline"], max_wall=10)

    def test_time__kube_retry_after_one_day_three_namespaces__fails_at_once_within_5s(self):
        self.rule("kube", "retry_after", method="GET", seconds=86400)
        self.check_run(["sync", "-n", "runtime,team-a,default"], exit="nonzero", max_wall=5,
                       messages=["Retry-After asks to wait 24h0m0s"])

    def test_time__kube_retry_after_http_date_year_9999__fails_at_once_within_2s(self):
        # RFC 9110 allows an HTTP-date too; a date past the deadline must not mean "retry with backoff".
        self.rule("kube", "retry_after", method="GET", seconds="Fri, 31 Dec 9999 23:59:59 GMT")
        self.check_run(["sync", "-n", "runtime,team-a,default"], exit="nonzero", max_wall=2,
                       messages=["Retry-After"])

    def test_time__ecr_retry_after_one_day__fails_at_once_within_5s(self):
        self.rule("ecr", "retry_after", seconds=86400)
        self.check_run(SYNC, exit=EXIT_NETWORK, max_wall=5)

    def test_time__ecr_stall_timeout_3s__exit6_deadline_passed_within_6s(self):
        self.rule("ecr", "stall")
        self.check_run(SYNC + ["--timeout", "3s"], exit=EXIT_NETWORK, max_wall=6,
                       messages=["deadline (--timeout) passed"])

    def test_time__ecr_stall_env_timeout_3s__exit6_deadline_passed_within_6s(self):
        self.rule("ecr", "stall")
        self.check_run(SYNC, self.env(ECR_RENEW_TIMEOUT="3s"), exit=EXIT_NETWORK, max_wall=6,
                       messages=["deadline"])

    def test_time__ecr_slow_headers_timeout_3s__exit6_deadline_within_6s(self):
        self.rule("ecr", "slow_headers", interval_ms=1000, lines=100)
        self.check_run(SYNC + ["--timeout", "3s"], exit=EXIT_NETWORK, max_wall=6, messages=["deadline"])

    def test_time__exec_plugin_sleeps_forever_timeout_3s__fails_within_6s_plugin_gone(self):
        pidfile = self.path("plugin.pid")
        kubeconfig = self.exec_kubeconfig("echo $$ > %s\nexec sleep 1000\n" % pidfile)
        try:
            self.check_run(SYNC + ["--timeout", "3s"], self.env(KUBECONFIG=kubeconfig), exit="nonzero",
                           max_wall=6, messages=["did not finish within"])
            with open(pidfile) as f:
                pid = int(f.read())
            self.assertTrue(self.pid_gone(pid), "the exec plugin (pid %d) was left running" % pid)
        finally:
            if os.path.exists(pidfile):
                with open(pidfile) as f:
                    pid = int(f.read() or 0)
                if pid and not self.pid_gone(pid, 0):
                    os.kill(pid, 9)  # the plugin this test started

    def test_time__timeout_bogus__exit2_not_a_duration(self):
        run = self.check_run(SYNC + ["--timeout", "bogus"], exit=EXIT_USAGE, messages=["not a duration"])
        self.assert_no_request(run)

    def test_time__timeout_zero__exit2_not_a_duration(self):
        run = self.check_run(SYNC + ["--timeout", "0s"], exit=EXIT_USAGE, messages=["not a duration"])
        self.assert_no_request(run)


# ---------------------------------------------------------------------------------------
# Forged log lines: text from outside never starts a line or carries escapes.
# ---------------------------------------------------------------------------------------

class ForgedLogTest(HostileCase):
    def sts_expiration(self, *fmt):
        self.rule("sts", "fields", Expiration="2026-01-01T00:00:00Z\n" + FORGED)
        run = self.check_run(SYNC + list(fmt), self.env("web_identity"), exit=EXIT_NETWORK)
        self.assert_no_line_starts(run, FORGED)

    def container_code(self, *fmt):
        self.rule("container", "fields", Code="\x1b[31mFAIL\nforged")
        run = self.check_run(SYNC + list(fmt), self.env("container"), exit=(EXIT_AWS, EXIT_NETWORK))
        self.assertFalse(b"\x1b" in run.stderr, "an ESC byte reached stderr: " + self.describe(run))
        self.assert_no_line_starts(run, "forged")

    def imds_region(self, *fmt):
        self.rule("imds", "fields", fields={"region": "us-east-1\nforged"})
        run = self.check_run(SYNC + list(fmt), self.env("imds", drop=("AWS_REGION",)), exit="nonzero")
        self.assert_no_line_starts(run, "forged")

    def test_forged__sts_expiration_newline__exit6_no_forged_line(self):
        self.sts_expiration()

    def test_forged__container_code_escape_newline__exit5or6_no_escape_no_forged_line(self):
        self.container_code()

    def test_forged__imds_region_newline__nonzero_no_forged_line(self):
        self.imds_region()

    def test_forged__json_sts_expiration_newline__exit6_every_line_json(self):
        self.sts_expiration("--log-format", "json")

    def test_forged__json_container_code_escape_newline__exit5or6_every_line_json(self):
        self.container_code("--log-format", "json")

    def test_forged__json_imds_region_newline__nonzero_every_line_json(self):
        self.imds_region("--log-format", "json")

    def test_forged__sts_expiration_newline__shown_escaped_not_as_a_space(self):
        # "Text logged from outside: control characters made visible" (issue 7): a reader must
        # be able to tell a line break from a space.
        self.rule("sts", "fields", Expiration="2026-01-01T00:00:00Z\n" + FORGED)
        run = self.check_run(SYNC, self.env("web_identity"), exit=EXIT_NETWORK)
        self.assertTrue(any(v in run.err for v in ("00:00:00Z\\n2026", "00:00:00Z\\x0a2026",
                                                   "00:00:00Z\\u000a2026")),
                        "the line break is not shown as \\n: " + self.describe(run))

    def test_forged__container_code_escape__shown_escaped_not_as_a_space(self):
        self.rule("container", "fields", Code="\x1b[31mFAIL")
        run = self.check_run(SYNC, self.env("container"), exit=(EXIT_AWS, EXIT_NETWORK))
        self.assertTrue(any(v in run.err.lower() for v in ("\\x1b[31mfail", "\\u001b[31mfail", "\\033[31mfail",
                                                           "\\e[31mfail")),
                        "the ESC is not shown as \\x1b: " + self.describe(run))

    def test_forged__kube_status_message_escape_newline__exit7_no_forged_line(self):
        status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": "Forbidden",
                  "message": "denied\x1b[2J\r\n" + FORGED, "code": 403}
        self.rule("kube", "raw", method="GET", status=403, content_type="application/json", body=json.dumps(status))
        run = self.check_run(SYNC, exit=EXIT_KUBE)
        self.assert_no_line_starts(run, FORGED)

    def test_forged__ecr_error_message_escape_newline__exit5_no_forged_line(self):
        err = {"__type": "AccessDeniedException", "message": "denied\n" + FORGED + "\x1b]0;owned\x07"}
        self.rule("ecr", "raw", status=400, content_type=ECR_JSON, body=json.dumps(err),
                  headers=[["x-amzn-ErrorType", "AccessDeniedException"]])
        run = self.check_run(SYNC, exit=EXIT_AWS)
        self.assert_no_line_starts(run, FORGED)


# ---------------------------------------------------------------------------------------
# Names: empty or malformed names are usage errors, found before any request.
# ---------------------------------------------------------------------------------------

class NamesTest(HostileCase):
    def usage(self, args, env=None):
        run = self.check_run(args, env, exit=EXIT_USAGE)
        self.assert_no_request(run)

    def test_names__namespace_empty__exit2_no_request(self):
        self.usage(["sync", "--namespace", ""])

    def test_names__namespace_comma__exit2_no_request(self):
        self.usage(["sync", "--namespace", ","])

    def test_names__namespace_blank__exit2_no_request(self):
        self.usage(["sync", "--namespace", " "])

    def test_names__env_namespaces_comma__exit2_no_request(self):
        self.usage(["sync"], self.env(ECR_RENEW_NAMESPACES=","))

    def test_names__namespace_path_traversal__exit2_no_request(self):
        self.usage(["sync", "--namespace", "../kube-system"])

    def test_names__secret_name_with_slash__exit2_no_request(self):
        self.usage(SYNC + ["--secret-name", "x/../../../api/v1/namespaces/kube-system/secrets/y"])

    def test_names__region_host_injection__exit2_no_request(self):
        self.usage(SYNC + ["--region", "evil.example/x?"])

    def test_names__registry_id_not_12_digits__exit2_no_request(self):
        self.usage(SYNC + ["--registry-id", "12345678901x"])


# ---------------------------------------------------------------------------------------
# Token fields: proxyEndpoint and expiresAt are checked before anything is written.
# ---------------------------------------------------------------------------------------

class TokenFieldsTest(HostileCase):
    def proxy(self, value):
        self.rule("ecr", "fields", entry={"proxyEndpoint": value})
        self.check_run(SYNC, exit=EXIT_NETWORK, messages=["proxyEndpoint"])

    def expires(self, value):
        self.rule("ecr", "fields", entry={"expiresAt": value})
        run = self.check_run(SYNC, exit=EXIT_NETWORK, absent=["1970-"])
        self.assertEqual(self.stored_secret_names(), [], "a Secret was stored: " + self.describe(run))

    def test_token__proxy_endpoint_empty__exit6_no_write(self):
        self.proxy("")

    def test_token__proxy_endpoint_other_host__exit6_no_write(self):
        self.proxy("https://evil.example")

    def test_token__proxy_endpoint_userinfo__exit6_no_write(self):
        self.proxy(f"https://user:pw@{REGISTRY}")

    def test_token__proxy_endpoint_comma__exit6_no_write(self):
        self.proxy(f"https://{REGISTRY},evil")

    def test_token__proxy_endpoint_newline__exit6_no_write(self):
        self.proxy(f"https://{REGISTRY}\nevil")

    def test_token__proxy_endpoint_other_region__exit6_no_write(self):
        self.proxy(f"https://{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com")

    def test_token__expires_at_missing__exit6_no_write(self):
        self.expires("__delete__")

    def test_token__expires_at_negative__exit6_no_write(self):
        self.expires(-1)

    def test_token__expires_at_1e300__exit6_no_write(self):
        self.expires(1e300)

    def test_token__expires_at_year_10000__exit6_no_write(self):
        self.expires(253402300800)

    def test_token__expires_at_past__exit6_no_write(self):
        self.expires(1420070400)

    def test_token__expires_at_30_days_ahead__exit6_no_write(self):
        self.expires(int(time.time()) + 30 * 86400)

    def test_token__authorization_data_empty__exit6_no_write(self):
        self.rule("ecr", "raw", status=200, content_type=ECR_JSON, body='{"authorizationData":[]}')
        self.check_run(SYNC, exit=EXIT_NETWORK)

    def test_token__authorization_token_not_base64__exit6_no_write(self):
        self.rule("ecr", "fields", entry={"authorizationToken": "%%%not-base64%%%"})
        self.check_run(SYNC, exit=EXIT_NETWORK)


# ---------------------------------------------------------------------------------------
# A password that is not UTF-8 cannot go into JSON: the run fails, nothing is dropped.
# ---------------------------------------------------------------------------------------

class PasswordUtf8Test(HostileCase):
    def test_utf8__sync_password_not_utf8__exit6_no_write(self):
        self.rule("ecr", "fields", password_bytes_b64=b64(b"\xff\xfe"))
        self.check_run(SYNC, exit=EXIT_NETWORK, messages=["not UTF-8"])

    def test_utf8__login_password_not_utf8__nonzero_nothing_on_stdout(self):
        self.rule("ecr", "fields", password_bytes_b64=b64(b"\xff\xfe"))
        run = self.check_run(["login"], exit="nonzero", stdout_secret=True)
        self.assertTrue(run.stdout == b"", "login printed %d bytes on stdout" % len(run.stdout))


# ---------------------------------------------------------------------------------------
# Files that block or never end: FIFOs are refused at once, devices are capped.
# ---------------------------------------------------------------------------------------

class BlockingFilesTest(HostileCase):
    def fifo(self):
        p = self.path("fifo")
        os.mkfifo(p, 0o600)
        return p

    def test_fifo__kubeconfig__exit3_fifo_within_2s(self):
        run = self.check_run(SYNC, self.env(KUBECONFIG=self.fifo()), exit=EXIT_CONFIG, max_wall=2,
                             messages=["FIFO"])
        self.assert_no_request(run)

    def test_fifo__web_identity_token_file__exit3_fifo_within_2s(self):
        self.check_run(SYNC, self.env("web_identity", AWS_WEB_IDENTITY_TOKEN_FILE=self.fifo()), exit=EXIT_CONFIG,
                       max_wall=2, messages=["FIFO"])

    def test_fifo__aws_config_file__exit3_fifo_within_2s(self):
        self.check_run(SYNC, self.env("none", AWS_CONFIG_FILE=self.fifo()), exit=EXIT_CONFIG, max_wall=2,
                       messages=["FIFO"])

    def test_fifo__kubeconfig_dev_zero__exit3_bounded(self):
        run = self.check_run(SYNC, self.env(KUBECONFIG="/dev/zero"), exit=EXIT_CONFIG, max_wall=2)
        self.assert_no_request(run)

    def test_fifo__web_identity_token_file_dev_zero__exit3_bounded(self):
        self.check_run(SYNC, self.env("web_identity", AWS_WEB_IDENTITY_TOKEN_FILE="/dev/zero"), exit=EXIT_CONFIG,
                       max_wall=2)


# ---------------------------------------------------------------------------------------
# A password in a URL's userinfo is redacted in every message.
# ---------------------------------------------------------------------------------------

class UserinfoTest(HostileCase):
    def test_userinfo__kubeconfig_server_password__nonzero_redacted(self):
        self.plant("hunter2secret")
        kubeconfig = self.hs.write_kubeconfig(
            self.path("kubeconfig-userinfo"), server=f"https://admin:hunter2secret@127.0.0.1:{closed_port()}")
        self.check_run(SYNC, self.env(KUBECONFIG=kubeconfig), exit="nonzero", messages=["***@"])

    def test_userinfo__container_credentials_uri_password__nonzero_redacted(self):
        self.plant("pw-hunter3secret")
        uri = f"http://u:pw-hunter3secret@127.0.0.1:{closed_port()}/v1/credentials"
        self.check_run(SYNC, self.env("container", AWS_CONTAINER_CREDENTIALS_FULL_URI=uri), exit="nonzero",
                       messages=["***@"])


# ---------------------------------------------------------------------------------------
# Unclear errors: an answer that is not what was asked for is named as such.
# ---------------------------------------------------------------------------------------

class UnclearErrorsTest(HostileCase):
    def test_errors__kube_get_200_html__exit6_not_json_content_type(self):
        self.rule("kube", "generate", method="GET", path_regex="/secrets/", generator="html", status=200)
        self.check_run(SYNC, exit=EXIT_NETWORK, messages=["not JSON", "Content-Type text/html"],
                       absent=["resourceVersion"])

    def test_errors__kube_get_200_invalid_json__exit6_not_json(self):
        self.rule("kube", "raw", method="GET", path_regex="/secrets/", status=200, content_type="application/json",
                  body='{"kind": "Secret", "metadata": {"name": ')
        self.check_run(SYNC, exit=EXIT_NETWORK, messages=["not JSON"], absent=["resourceVersion"])

    def test_errors__ecr_huge_header__exit6_headers_larger_than(self):
        self.rule("ecr", "huge_header", bytes=200000)
        self.check_run(SYNC, exit=EXIT_NETWORK, messages=["headers are larger than"], absent=["Out of memory"])

    def test_errors__ecr_300_headers__ok_or_clear_error(self):
        self.rule("ecr", "huge_header", many=300)
        run = self.check_run(SYNC, exit=(EXIT_OK, EXIT_NETWORK), writes=True, absent=["Out of memory"])
        if run.returncode:
            self.assertTrue("header" in run.err, "the error names the headers: " + self.describe(run))

    def test_errors__kube_retry_line_names_the_cause__reason_not_cut(self):
        self.rule("kube", "reset", count=1, method="GET")
        run = self.check_run(SYNC, exit=EXIT_OK, writes=True)
        retries = [line for line in run.err.splitlines() if "retrying Kubernetes request" in line]
        self.assertEqual(len(retries), 1, self.describe(run))
        self.assertTrue("reset" in retries[0], "the retry line does not say why it retries: " + self.describe(run))

    def test_errors__ecr_truncated_body__exit6_no_write(self):
        self.rule("ecr", "raw", status=200, content_type=ECR_JSON, headers=[["Content-Length", "5000"]],
                  body='{"authorizationData":[')
        self.check_run(SYNC, exit=EXIT_NETWORK)


# ---------------------------------------------------------------------------------------
# docker-config -o FILE: through a symlink to its target, never onto a special file.
# ---------------------------------------------------------------------------------------

class OutputFileTest(HostileCase):
    def test_output__symlink__kept_target_holds_document_mode_0600(self):
        target = self.write_file("real-config.json", "old\n", 0o644)
        link = self.path("link")
        os.symlink(target, link)
        run = self.check_run(["docker-config", "-o", link], exit=EXIT_OK)
        self.assertTrue(run.stdout == b"", "-o printed %d bytes on stdout" % len(run.stdout))
        self.assertTrue(os.path.islink(link), "-o replaced the symbolic link")
        self.assertEqual(os.readlink(link), target)
        self.assertEqual(stat.S_IMODE(os.stat(target).st_mode), 0o600)
        with open(target, "rb") as f:
            doc = json.loads(f.read())
        self.assertTrue(doc["auths"][REGISTRY]["password"] == self.hs.password, "the target holds the password")
        self.assertEqual(sorted(os.listdir(self.tmp)), ["link", "real-config.json"], "no stray temp file")

    def special(self, make, message):
        d = self.path("out")
        os.mkdir(d)
        p = os.path.join(d, "target")
        make(p)
        run = self.check_run(["docker-config", "-o", p], exit=EXIT_CONFIG, max_wall=2, messages=[message])
        self.assertTrue(run.stdout == b"", "printed %d bytes on stdout" % len(run.stdout))
        self.assertEqual(os.listdir(d), ["target"], "a stray file was left next to the target")
        return os.lstat(p)

    def test_output__fifo__exit3_fifo_still_fifo(self):
        st = self.special(lambda p: os.mkfifo(p, 0o600), "FIFO")
        self.assertTrue(stat.S_ISFIFO(st.st_mode), "the FIFO was replaced")

    def test_output__directory__exit3_directory(self):
        st = self.special(os.mkdir, "directory")
        self.assertTrue(stat.S_ISDIR(st.st_mode), "the directory was replaced")


# ---------------------------------------------------------------------------------------
# Redirects are never followed: credentials and Secrets stay with the intended host.
# ---------------------------------------------------------------------------------------

class RedirectTest(HostileCase):
    def check_redirect(self, env=None, **kw):
        run = self.check_run(SYNC, env, exit="nonzero", **kw)
        self.assert_canary_untouched()
        return run

    def assert_says_redirect(self, run):
        self.assertTrue(re.search(r"(?i)redirect", run.err), "the error does not say the answer was a redirect: "
                        + self.describe(run))

    def assert_canary_untouched(self):
        time.sleep(0.3)  # let a late connection attempt be recorded
        self.assertEqual(len(self.hs.canary_connections()), 0, "the redirect was followed to the canary")

    def test_redirect__kube_get_302_to_canary__nonzero_not_followed(self):
        self.rule("kube", "redirect", method="GET", status=302, scheme="https")
        self.check_redirect()

    def test_redirect__kube_post_307_to_canary__nonzero_secret_not_resent(self):
        self.rule("kube", "redirect", method="POST", status=307, scheme="https")
        self.check_redirect(writes=True)  # the POST is tried once, at the API server
        self.assertEqual(self.stored_secret_names(), [], "a Secret was stored")

    def test_redirect__ecr_307_to_canary__nonzero_not_followed(self):
        self.rule("ecr", "redirect", status=307)
        self.check_redirect()

    def test_redirect__sts_307_to_canary__nonzero_not_followed(self):
        self.rule("sts", "redirect", status=307)
        self.check_redirect(self.env("web_identity"))

    def test_redirect__ecr_307__error_says_redirect(self):
        self.rule("ecr", "redirect", status=307)
        self.assert_says_redirect(self.check_redirect())

    def test_redirect__kube_get_302__error_says_redirect(self):
        self.rule("kube", "redirect", method="GET", status=302, scheme="https")
        self.assert_says_redirect(self.check_redirect())

    def test_redirect__container_credentials_302_to_canary__nonzero_not_followed(self):
        self.rule("container", "redirect", status=302)
        self.check_redirect(self.env("container"))

    def test_redirect__imds_token_307_to_canary__nonzero_not_followed(self):
        self.rule("imds", "redirect", status=307)
        self.check_redirect(self.env("imds"))


# ---------------------------------------------------------------------------------------
# On the wire: compression bombs, deep nesting, resets, the wrong kind of object.
# ---------------------------------------------------------------------------------------

_BOMB: list = []


def gzip_bomb() -> bytes:
    """~64 MiB of JSON-looking whitespace gzipped to ~64 KiB."""
    if not _BOMB:
        _BOMB.append(gzip.compress(b'{"authorizationData":[' + b" " * (64 << 20) + b"]}", 9))
    return _BOMB[0]


class WireTest(HostileCase):
    def test_wire__ecr_gzip_bomb__not_inflated_nonzero(self):
        self.rule("ecr", "raw", status=200, content_type=ECR_JSON, headers=[["Content-Encoding", "gzip"]],
                  body_b64=b64(gzip_bomb()), close=False)
        self.check_run(SYNC, exit="nonzero")

    def test_wire__kube_get_gzip_bomb__not_inflated_nonzero(self):
        self.rule("kube", "raw", method="GET", path_regex="/secrets/", status=200, content_type="application/json",
                  headers=[["Content-Encoding", "gzip"]], body_b64=b64(gzip_bomb()), close=False)
        self.check_run(SYNC, exit="nonzero")

    def test_wire__ecr_json_deep__exit6(self):
        self.rule("ecr", "generate", generator="json_deep", depth=100000)
        self.check_run(SYNC, exit=EXIT_NETWORK)

    def test_wire__kube_reset_every_request_timeout_8s__exit6or7_within_10s(self):
        self.rule("kube", "reset")
        self.check_run(SYNC + ["--timeout", "8s"], exit=(EXIT_NETWORK, EXIT_KUBE), max_wall=10)

    def test_wire__kube_get_200_configmap__exit6_not_a_secret(self):
        cm = {"kind": "ConfigMap", "apiVersion": "v1",
              "metadata": {"name": SECRET_NAME, "namespace": "runtime", "resourceVersion": "7",
                           "uid": "0b5c4c55-0000-4000-8000-000000000001"},
              "data": {"a": "b"}}
        self.rule("kube", "raw", method="GET", path_regex="/secrets/", status=200, content_type="application/json",
                  body=json.dumps(cm))
        self.check_run(SYNC, exit=EXIT_NETWORK, messages=["not a Secret"])

    def test_wire__ecr_set_cookie__never_sent_anywhere(self):
        # Every peer is 127.0.0.1 (ports differ; cookies ignore ports): a cookie engine shared
        # between ECR, STS and the API server would carry one service's cookie to another.
        self.rule("ecr", "fields", headers=[["Set-Cookie", "hostile=from-ecr; Path=/"]])
        self.rule("sts", "fields", headers=[["Set-Cookie", "hostile=from-sts; Path=/"]])
        run = self.check_run(SYNC + ["--region", "us-east-1", "--region", "us-east-2"], self.env("web_identity"),
                             exit=EXIT_OK, writes=True)
        cookies = [e["role"] for e in run.requests if b"\ncookie:" in self.hs.raw_head(e).lower()]
        self.assertEqual(cookies, [], "a Set-Cookie from one answer came back in a request")

    def test_wire__exec_plugin_prints_20mb__nonzero_bounded(self):
        kubeconfig = self.exec_kubeconfig("head -c 20000000 /dev/zero | tr '\\000' a\n")
        run = self.check_run(SYNC, self.env(KUBECONFIG=kubeconfig), exit="nonzero")
        self.assertEqual(len([e for e in run.requests if e["role"] == "kube"]), 0)


# ---------------------------------------------------------------------------------------
# Controls: with no rule, every credential source syncs (the checks above mean something).
# ---------------------------------------------------------------------------------------

class ControlTest(HostileCase):
    def control(self, credentials):
        run = self.check_run(SYNC, self.env(credentials), exit=EXIT_OK, writes=True,
                             messages=["sync finished namespaces=1 written=1 failed=0"])
        secret = self.hs.kube_secret("runtime", SECRET_NAME)
        self.assertIsNotNone(secret, "no Secret written: " + self.describe(run))
        auths = secret_auths(secret)
        self.assertEqual(list(auths), [REGISTRY])
        self.assertTrue(auths[REGISTRY]["password"] == self.hs.password, "the Secret holds the password")
        ann = secret["metadata"]["annotations"]
        expires = datetime.datetime.strptime(ann["ecr-renew/expires-at"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc)
        hours = (expires - datetime.datetime.now(datetime.timezone.utc)).total_seconds() / 3600
        self.assertTrue(11.9 < hours <= 12.0, "expiry annotation %.2f h ahead" % hours)
        self.assertEqual(ann["ecr-renew/registries"], REGISTRY)
        # Each credential went only where it belongs.
        owners = {"kube": [self.hs.kube_token], "container": [self.hs.container_token],
                  "sts": [self.hs.web_identity_token]}
        for e in run.requests:
            head = self.hs.raw_head(e).decode("latin-1")
            for role, values in owners.items():
                if e["role"] != role:
                    self.assertFalse(any(v in head for v in values), "a %s credential was sent in a %s request"
                                     % (role, e["role"]))
            if e["role"] == "kube":
                self.assertFalse("AWS4-HMAC-SHA256" in head, "an AWS signature was sent to the API server")

    def test_control__static__exit0_written(self):
        self.control("static")

    def test_control__web_identity__exit0_written(self):
        self.control("web_identity")

    def test_control__container__exit0_written(self):
        self.control("container")

    def test_control__imds__exit0_written(self):
        self.control("imds")

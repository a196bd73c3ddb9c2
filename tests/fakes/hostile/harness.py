"""Test harness for the HOSTILE FAKE server (hostile_server.py).  Test infrastructure, not AWS or Kubernetes.

Security and robustness tests import this module (load it by path: tests/fakes/aws and
tests/fakes/kube have a harness.py too; see test_hostile_server.py):

    with HostileServer() as hs:                        # free ports, temp work dir, killed on exit
        hs.misbehave("ecr", "fields", entry={"proxyEndpoint": "https://evil.example"})
        hs.misbehave("kube", "redirect", count=1, method="PUT", path_regex=r"/secrets/")
        cp = subprocess.run([ecr_renew, "sync", "-n", "runtime"], env=hs.env(), capture_output=True)
        assert not hs.find_leaks(cp.stdout + cp.stderr)   # no secret the fake handed out was printed
        assert hs.canary_connections() == []               # nothing went to the canary host
        puts = hs.requests(role="kube", method="PUT")      # raw heads, headers, bodies: never print them

Everything a run creates lives under one temporary work directory, deleted by stop()
unless HOSTILE_KEEP=1 is set (its path is then printed to stderr).  The server runs in
its own process group; stop() kills the group, an atexit hook does the same for
instances a test forgot, and PR_SET_PDEATHSIG kills it if the test process dies.
"""

from __future__ import annotations

import atexit
import base64
import ctypes
import http.client
import json
import os
import secrets as _secrets
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "hostile_server.py")

# Variables a program under test keeps from the caller's environment; everything else
# (AWS_*, KUBE*, proxies, HOME) is dropped or replaced.
PASSTHROUGH_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "TERM", "LD_LIBRARY_PATH",
                   "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "MSAN_OPTIONS", "TSAN_OPTIONS",
                   "LLVM_PROFILE_FILE", "GCOV_PREFIX", "GCOV_PREFIX_STRIP")
CREDENTIAL_SOURCES = ("static", "web_identity", "container", "imds", "none")
ROLE_ARN = "arn:aws:iam::123456789012:role/ecr-renew"


@dataclass
class Response:
    status: int
    headers: dict
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


_live: set["HostileServer"] = set()


@atexit.register
def _stop_all() -> None:
    for s in list(_live):
        s.stop()


def _die_with_parent() -> None:
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def fake_jwt() -> str:
    """A JWT-shaped web identity token (unsigned garbage signature; the fake checks nothing)."""
    now = int(time.time())
    claims = {"iss": "https://oidc.eks.us-east-1.amazonaws.com/id/HOSTILE", "aud": ["sts.amazonaws.com"],
              "sub": "system:serviceaccount:kube-system:ecr-renew-sa", "iat": now, "exp": now + 3600}
    return ".".join([_b64url(b'{"alg":"RS256","kid":"hostile"}'), _b64url(json.dumps(claims).encode()),
                     _b64url(_secrets.token_bytes(256))])


class HostileServer:
    """One hostile_server.py process; a context manager."""

    def __init__(self, *, namespaces: tuple = ("default", "runtime", "team-a"), account: str = "123456789012",
                 region: str = "us-east-1", kube_version: str = "v1.31.4", kube_token: str | None = None,
                 workdir: str | None = None, extra_args: tuple = ()):
        self.config = {"admin_token": "hostile-admin-" + _secrets.token_urlsafe(18),
                       "kube_token": kube_token or "hostile-kube-" + _secrets.token_urlsafe(24),
                       "container_token": "hostile-ctr-" + _secrets.token_urlsafe(24),
                       "namespaces": list(namespaces), "account": account, "region": region,
                       "kube_version": kube_version}
        self.extra_args = list(extra_args)
        self._own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="hostile-")
        self.state_dir = os.path.join(self.workdir, "state")
        self.home_dir = os.path.join(self.workdir, "home")
        self.stderr_path = os.path.join(self.workdir, "hostile_server.stderr")
        # What env() hands the program under test; remembered so secrets() can list them.
        self.static_key = ("AKIAHOSTILE" + _secrets.token_hex(5).upper()[:9], _secrets.token_urlsafe(30)[:40])
        self.web_identity_token = fake_jwt()
        self.proc: subprocess.Popen | None = None
        self.state: dict = {}
        self._kubeconfig: str | None = None

    # -- lifecycle -------------------------------------------------------------

    def start(self, timeout: float = 20.0) -> "HostileServer":
        os.makedirs(self.state_dir, exist_ok=True)
        os.makedirs(self.home_dir, exist_ok=True)
        cfg_path = os.path.join(self.workdir, "config.json")
        fd = os.open(cfg_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(self.config, f)
        self._stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen([sys.executable, SERVER, "--state-dir", self.state_dir, "--config", cfg_path,
                                      *self.extra_args], stdout=subprocess.PIPE, stderr=self._stderr,
                                     stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent)
        _live.add(self)
        line: list[bytes] = []
        reader = threading.Thread(target=lambda: line.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not line or not line[0].startswith(b"READY "):
            tail = self.stderr_text()[-4000:]
            self.stop()
            raise RuntimeError(f"hostile server did not start; its stderr ended with:\n{tail}")
        fields = dict(kv.split("=", 1) for kv in line[0].decode().split()[1:])
        self.http_port, self.https_port, self.canary_port = (int(fields[k]) for k in ("http", "https", "canary"))
        self.state = self.admin("GET", "/_hostile/state").json
        self._kubeconfig = None
        return self

    def stop(self, cleanup: bool = True) -> None:
        """Kill the server's process group; with cleanup, delete the work dir (if the harness made it)."""
        if self.proc is not None:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    pass
                try:
                    self.proc.wait(5)
                    break
                except subprocess.TimeoutExpired:
                    continue
            if self.proc.stdout:
                self.proc.stdout.close()
            self.proc = None
            self._stderr.close()
        _live.discard(self)
        if cleanup and self._own_workdir and os.path.isdir(self.workdir):
            if os.environ.get("HOSTILE_KEEP"):
                sys.stderr.write(f"hostile work dir kept: {self.workdir}\n")
            else:
                shutil.rmtree(self.workdir, ignore_errors=True)
                self._own_workdir = False

    def __enter__(self) -> "HostileServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def stderr_text(self) -> str:
        """The server's stderr (one line per request: role, method, path, status, mode; no secrets)."""
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    # -- facts -----------------------------------------------------------------

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def kube_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def canary_host(self) -> str:
        return self.state["canary_host"]

    @property
    def canary_url(self) -> str:
        return f"http://{self.canary_host}:{self.canary_port}"

    @property
    def ca_file(self) -> str:
        return self.state["ca_file"]

    @property
    def kube_token(self) -> str:
        return self.config["kube_token"]

    @property
    def admin_token(self) -> str:
        return self.config["admin_token"]

    @property
    def container_token(self) -> str:
        return self.config["container_token"]

    @property
    def password(self) -> str:
        """The ECR password the fake answers by default (~2400 characters, new per start).  Never print it."""
        return self.state["password"]

    @property
    def public_password(self) -> str:
        return self.state["public_password"]

    # -- HTTP plumbing -----------------------------------------------------------

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file)

    def http_connection(self, timeout: float = 10) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=timeout)

    def https_connection(self, timeout: float = 10) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection("127.0.0.1", self.https_port, context=self.ssl_context(), timeout=timeout)

    def admin(self, method: str, path: str, body: Any = None) -> Response:
        conn = self.http_connection()
        try:
            data = None if body is None else json.dumps(body).encode()
            conn.request(method, path, body=data, headers={"X-Hostile-Admin": self.admin_token,
                                                           "Content-Type": "application/json"})
            r = conn.getresponse()
            resp = Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            conn.close()
        if resp.status >= 400:
            raise RuntimeError(f"admin call {method} {path} failed: {resp.status} {resp.body[:300]!r}")
        return resp

    # -- misbehaviour ------------------------------------------------------------

    def misbehave(self, role: str, mode: str, *, count: int | None = None, method: str | None = None,
                  path_regex: str | None = None, **params: Any) -> dict:
        """Add one rule: `role` ("ecr", "ecr-public", "sts", "container", "imds", "kube" or "*") answers in
        `mode` for the next `count` matching requests (default: until reset).  method/path_regex narrow the
        match (path_regex is re.search'ed against the request target, path and query).  params are the
        mode's (README.md); to override an IMDS role name use fields={"role": ...}.  Returns the rule."""
        rule: dict[str, Any] = {"role": role, "mode": mode, **params}
        if count is not None:
            rule["count"] = count
        match = {k: v for k, v in (("method", method), ("path_regex", path_regex)) if v is not None}
        if match:
            rule["match"] = match
        return self.configure(rule)[0]

    def configure(self, *rules: dict) -> list[dict]:
        """Add raw rules (the /_hostile/config format); first matching rule wins."""
        return self.admin("POST", "/_hostile/config", list(rules)).json["rules"]

    def rules(self) -> list[dict]:
        """Active rules, with `remaining` (null: unlimited) and `hits`."""
        return self.admin("GET", "/_hostile/config").json["rules"]

    def clear_rules(self) -> None:
        self.admin("DELETE", "/_hostile/config")

    def reset(self) -> None:
        """Clear rules, request and canary logs, kube objects and IMDS tokens; end stalled connections."""
        self.admin("POST", "/_hostile/reset")

    # -- logs and objects --------------------------------------------------------

    def requests(self, role: str | None = None, method: str | None = None, *, path_contains: str | None = None,
                 clear: bool = False) -> list[dict]:
        """The request log (README.md lists the fields).  It holds secrets: never print it."""
        q = urllib.parse.urlencode({k: v for k, v in (("role", role), ("method", method)) if v})
        log = self.admin("DELETE" if clear else "GET", "/_hostile/requests" + (f"?{q}" if q else "")).json
        return [e for e in log if path_contains is None or path_contains in e["path"]]

    @staticmethod
    def raw_head(entry: dict) -> bytes:
        """The raw request line and header bytes of a log entry."""
        return base64.b64decode(entry["raw_head_b64"])

    def canary_connections(self) -> list[dict]:
        """Every connection attempt to the canary address (time, peer, tls, sni, bytes_received, data_b64)."""
        return self.admin("GET", "/_hostile/canary").json

    def kube_objects(self) -> dict:
        """{"secrets": [...], "namespaces": [...]}, as stored (Secret data included)."""
        return self.admin("GET", "/_hostile/kube/objects").json

    def kube_secret(self, namespace: str, name: str) -> dict | None:
        for s in self.kube_objects()["secrets"]:
            if s["metadata"]["namespace"] == namespace and s["metadata"]["name"] == name:
                return s
        return None

    def seed(self, obj: dict) -> dict:
        """Store a Secret (namespace defaults to "default") or Namespace directly; returns it as stored."""
        return self.admin("POST", "/_hostile/kube/objects", obj).json

    # -- files and environment for the program under test ------------------------

    def write_kubeconfig(self, path: str | None = None, *, token: str | None = None, ca: str = "file",
                         server: str | None = None, insecure: bool = False, namespace: str | None = "default",
                         tls_server_name: str | None = None, context: str = "hostile") -> str:
        """A kubeconfig (JSON, valid YAML, mode 0600) with token auth against the fake's kube role.
        ca: "file" (certificate-authority), "data" (certificate-authority-data) or "none"."""
        path = path or os.path.join(self.workdir, f"kubeconfig-{time.monotonic_ns()}")
        cluster: dict[str, Any] = {"server": server or self.kube_url}
        if insecure:
            cluster["insecure-skip-tls-verify"] = True
        elif ca == "file":
            cluster["certificate-authority"] = self.ca_file
        elif ca == "data":
            with open(self.ca_file, "rb") as f:
                cluster["certificate-authority-data"] = base64.b64encode(f.read()).decode()
        if tls_server_name:
            cluster["tls-server-name"] = tls_server_name
        ctx: dict[str, Any] = {"cluster": "hostile", "user": "hostile"}
        if namespace:
            ctx["namespace"] = namespace
        doc = {"apiVersion": "v1", "kind": "Config", "preferences": {},
               "clusters": [{"name": "hostile", "cluster": cluster}],
               "users": [{"name": "hostile", "user": {"token": token if token is not None else self.kube_token}}],
               "contexts": [{"name": context, "context": ctx}], "current-context": context}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f, indent=1)
        return path

    def env(self, credentials: str = "static", *, region: str = "us-east-1", kubeconfig: str | None = None,
            extra: dict | None = None, base: dict | None = None) -> dict:
        """A clean environment for the program under test, every endpoint pointing at the fake.

        Kept from `base` (default os.environ): PASSTHROUGH_ENV only; no AWS_*, KUBE* or proxy variables.
        credentials: "static" (AWS_ACCESS_KEY_ID/SECRET), "web_identity" (AWS_ROLE_ARN + a token file
        holding a fake JWT), "container" (AWS_CONTAINER_CREDENTIALS_FULL_URI + _AUTHORIZATION_TOKEN),
        "imds" (metadata endpoint enabled, no keys) or "none"."""
        if credentials not in CREDENTIAL_SOURCES:
            raise ValueError(f"credentials must be one of {CREDENTIAL_SOURCES}")
        source = os.environ if base is None else base
        env = {k: source[k] for k in PASSTHROUGH_ENV if k in source}
        env.update({
            "HOME": self.home_dir, "no_proxy": "*", "NO_PROXY": "*", "AWS_REGION": region,
            "AWS_CONFIG_FILE": os.path.join(self.workdir, "no-such-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.workdir, "no-such-aws-credentials"),
            "AWS_ENDPOINT_URL_ECR": self.http_url, "AWS_ENDPOINT_URL_ECR_PUBLIC": self.http_url,
            "AWS_ENDPOINT_URL_STS": self.http_url, "AWS_EC2_METADATA_SERVICE_ENDPOINT": self.http_url,
            "AWS_EC2_METADATA_DISABLED": "true",
            "KUBECONFIG": kubeconfig or self.default_kubeconfig(),
        })
        if credentials == "static":
            env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = self.static_key
        elif credentials == "web_identity":
            token_file = os.path.join(self.workdir, "web-identity-token")
            with open(token_file, "w") as f:
                f.write(self.web_identity_token)
            env.update(AWS_ROLE_ARN=ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE=token_file,
                       AWS_ROLE_SESSION_NAME="ecr-renew")
        elif credentials == "container":
            env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = f"{self.http_url}/v1/credentials"
            env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = self.container_token
        elif credentials == "imds":
            env["AWS_EC2_METADATA_DISABLED"] = "false"
        env.update(extra or {})
        return env

    def default_kubeconfig(self) -> str:
        if not self._kubeconfig or not os.path.exists(self._kubeconfig):
            self._kubeconfig = self.write_kubeconfig(os.path.join(self.workdir, "kubeconfig"))
        return self._kubeconfig

    # -- secrets -------------------------------------------------------------------

    def secrets_by_name(self, include_key_ids: bool = True) -> dict[str, str]:
        """Every secret the harness handed out or the fake answers by default, by name: keys, tokens,
        passwords.  include_key_ids=False leaves out the access key ids (AWS deems them not secret)."""
        st = self.state
        out = {"static_secret_access_key": self.static_key[1], "web_identity_token": self.web_identity_token,
               "kube_token": self.kube_token, "admin_token": self.admin_token,
               "container_token": self.container_token, "imds_token": st["imds_token"],
               "ecr_password": st["password"], "ecr_public_password": st["public_password"],
               "ecr_authorization_token": st["authorization_token"],
               "ecr_public_authorization_token": st["public_authorization_token"]}
        for role, c in st["credentials"].items():
            out[f"{role}_secret_access_key"] = c["SecretAccessKey"]
            out[f"{role}_session_token"] = c["SessionToken"]
            if include_key_ids:
                out[f"{role}_access_key_id"] = c["AccessKeyId"]
        if include_key_ids:
            out["static_access_key_id"] = self.static_key[0]
        return out

    def secrets(self, include_key_ids: bool = True) -> list[str]:
        """The values of secrets_by_name(); assert that none appears in the program's output."""
        return list(self.secrets_by_name(include_key_ids).values())

    def find_leaks(self, output: str | bytes, window: int = 16, include_key_ids: bool = True) -> list[str]:
        """Names (never values) of the secrets of which any `window`-character piece appears in `output`,
        so a truncated or partial print counts as a leak too."""
        text = output.decode("latin-1") if isinstance(output, bytes) else output
        leaks = []
        for name, value in self.secrets_by_name(include_key_ids).items():
            pieces = {value[i:i + window] for i in range(0, max(1, len(value) - window + 1))}
            if any(p in text for p in pieces):
                leaks.append(name)
        return leaks

    def redact(self, output: str | bytes) -> str:
        """`output` with every known secret replaced by <name>, safe to put in an assertion message."""
        text = output.decode("utf-8", "replace") if isinstance(output, bytes) else output
        for name, value in sorted(self.secrets_by_name().items(), key=lambda kv: -len(kv[1])):
            text = text.replace(value, f"<{name}>")
        return text

"""Test harness for the AWS fakes: start them, read their state, drive them.

Integration tests import this module (stdlib + boto3 + cryptography only)::

    from harness import FakeAws, FakeImds, FakeContainerCreds

    with FakeAws() as aws:                      # bundled scenario.json
        env = aws.env(user="ecr-reader")        # clean env for the program
        subprocess.run([ecr_renew, ...], env=env, check=True)
        assert aws.requests()[-1]["action"] == "GetAuthorizationToken"

Each fake runs as a subprocess in its own process group on a free
127.0.0.1 port; the harness waits for its ``READY port=<n>`` line, saves its
stderr to ``<workdir>/<name>.stderr`` (see ``stderr_tail()``), and on exit
kills the whole group.  Children also get PR_SET_PDEATHSIG so they die with
the process that started them (Linux; note it fires when the *thread* that
started them exits, so start fakes from the main thread or a long-lived one).

Scenario format (JSON; ``${account_id}`` is replaced everywhere)::

    {
      "account_id": "123456789012",          # moto's default; others via x-moto-account-id
      "region": "us-east-1",                 # default region for env()/clients
      "partition": "aws",
      "oidc_issuers": [                      # the fake makes one RSA key per issuer
        {"issuer": "https://oidc.eks.us-east-1.amazonaws.com/id/X",
         "register_provider": true,          # also create the IAM OIDC provider
         "client_ids": ["sts.amazonaws.com"],
         "thumbprints": ["..."],             # optional
         "kid": "..."}                       # optional, default derived from the key
      ],
      "managed_policies": [{"name": "p", "path": "/", "document": {...}}],
      "users": [{"name": "u", "path": "/",
                 "inline_policies": {"name": {...policy...}},
                 "managed_policies": ["p" | "arn:..."],
                 "access_keys": 1}],
      "roles": [{"name": "r", "path": "/", "trust_policy": {...},
                 "inline_policies": {...}, "managed_policies": [...],
                 "max_session_duration": 3600}]
    }

Set ``register_provider`` false to declare an issuer (so tokens can be
minted) whose IAM provider a test creates itself, e.g. with Terraform.

State format (written by fake_aws.py --state-out, returned by ``.state``)::

    {"endpoint": "http://127.0.0.1:N", "port": N, "pid": P,
     "account_id": "...", "region": "...", "partition": "aws",
     "users": {"u": {"arn": "...", "access_keys": [{"AccessKeyId": "...",
                                                    "SecretAccessKey": "..."}]}},
     "roles": {"r": {"arn": "...", "max_session_duration": 3600}},
     "managed_policies": {"p": "arn:..."},
     "oidc_issuers": {"https://...": {"issuer", "host_path", "provider_arn",
                       "registered", "client_ids", "kid", "public_jwk",
                       "private_key_pem": "/path/to/key.pem"}},
     "ecr": {"generation": 1, "lifetime_seconds": 43200,
             "expires_at_format": "fraction"}}

The ``ecr`` settings (generation, lifetime, format) are shared by ECR Public.
The state holds secret keys: never print it.
"""

from __future__ import annotations

import atexit
import base64
import copy
import ctypes
import json
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SCENARIO = os.path.join(HERE, "scenario.json")
DEFAULT_AUDIENCE = "sts.amazonaws.com"
DEFAULT_SUBJECT = "system:serviceaccount:kube-system:ecr-renew-sa"
ECR_PUBLIC_HOST = "public.ecr.aws"
ECR_PUBLIC_DUALSTACK_HOST = "ecr-public.aws.com"
ECR_PUBLIC_REGION = "us-east-1"  # the only region the fake's ECR Public accepts
_DEFAULT = object()  # "use the issuer's kid"

# Variables a program under test may keep from the caller's environment;
# everything AWS_*, proxies and HOME are replaced.
PASSTHROUGH_ENV = (
    "PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "TERM", "LD_LIBRARY_PATH",
    "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "MSAN_OPTIONS", "TSAN_OPTIONS",
    "LLVM_PROFILE_FILE", "GCOV_PREFIX", "GCOV_PREFIX_STRIP",
    # The AWS CLI here is a pyenv shim; it needs these to find Python.
    "PYENV_ROOT", "PYENV_VERSION",
)
_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")

# urllib would honour *_PROXY variables; the fakes are on loopback.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class FakeStartError(RuntimeError):
    pass


def load_default_scenario() -> dict[str, Any]:
    """A fresh copy of scenario.json, to modify and pass to FakeAws."""
    with open(DEFAULT_SCENARIO, encoding="utf-8") as fh:
        return copy.deepcopy(json.load(fh))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint_jwt(private_key_pem: bytes | str, *, iss: str, sub: str = DEFAULT_SUBJECT,
             aud: str | list[str] = DEFAULT_AUDIENCE, expires_in: int = 3600,
             exp: int | None = None, iat: int | None = None, nbf: int | None = None,
             kid: str | None = None, extra: dict[str, Any] | None = None) -> str:
    """An RS256 JWT signed with ``private_key_pem`` (PEM bytes or a file path).

    ``exp`` wins over ``expires_in`` (seconds from now, negative = expired).
    ``kid`` None leaves it out of the header.
    """
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    if isinstance(private_key_pem, str):
        with open(private_key_pem, "rb") as fh:
            private_key_pem = fh.read()
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    now = int(time.time())
    header: dict[str, Any] = {"alg": "RS256", "typ": "JWT"}
    if kid is not None:
        header["kid"] = kid
    claims: dict[str, Any] = {"iss": iss, "sub": sub, "aud": aud, "iat": now if iat is None else iat,
                              "exp": now + expires_in if exp is None else exp}
    if nbf is not None:
        claims["nbf"] = nbf
    claims.update(extra or {})
    signing_input = (_b64url(json.dumps(header, separators=(",", ":")).encode()) + "."
                     + _b64url(json.dumps(claims, separators=(",", ":")).encode()))
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + _b64url(signature)


def generate_rogue_key() -> bytes:
    """A private key no fake knows: tokens signed with it must be refused."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _child_env() -> dict[str, str]:
    """Environment for the fakes themselves: no AWS config, no proxies."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in _PROXY_VARS}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _bypass_proxy_for_loopback() -> None:
    """boto3 in this process honours *_PROXY; the fakes are on loopback."""
    if not any(os.environ.get(v) for v in _PROXY_VARS):
        return
    for var in ("NO_PROXY", "no_proxy"):
        hosts = [h for h in os.environ.get(var, "").split(",") if h]
        os.environ[var] = ",".join(hosts + [h for h in ("127.0.0.1", "localhost") if h not in hosts])


def _die_with_parent() -> None:
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class FakeProcess:
    """One fake running as a subprocess; a context manager."""

    script = ""
    name = "fake"

    def __init__(self, *, workdir: str | None = None, startup_timeout: float = 30.0,
                 die_with_parent: bool = True):
        self._own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix=f"{self.name}-")
        os.makedirs(self.workdir, exist_ok=True)
        self.startup_timeout = startup_timeout
        self.die_with_parent = die_with_parent
        self.stderr_path = os.path.join(self.workdir, f"{self.name}.stderr")
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    # -- lifecycle -------------------------------------------------------
    def _args(self) -> list[str]:
        raise NotImplementedError

    def start(self) -> "FakeProcess":
        if self.proc is not None:
            return self
        cmd = [sys.executable, os.path.join(HERE, self.script), "--port", "0", *self._args()]
        with open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                cwd=self.workdir, env=_child_env(), start_new_session=True,
                preexec_fn=_die_with_parent if self.die_with_parent else None,
            )
        atexit.register(self.stop)
        try:
            self.port = self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> int:
        assert self.proc is not None and self.proc.stdout is not None
        deadline = time.monotonic() + self.startup_timeout
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        try:
            while time.monotonic() < deadline:
                if sel.select(timeout=0.1):
                    line = self.proc.stdout.readline().decode("utf-8", "replace").strip()
                    if line.startswith("READY port="):
                        return int(line.split("=", 1)[1])
                    if not line and self.proc.poll() is not None:
                        break
                elif self.proc.poll() is not None:
                    break
        finally:
            sel.close()
        status = self.proc.poll()
        why = f"exited with {status}" if status is not None else f"not ready after {self.startup_timeout}s"
        raise FakeStartError(f"{self.name} {why}; stderr tail:\n{self.stderr_tail()}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(proc.pid, sig)  # the group we created with start_new_session
            except (ProcessLookupError, PermissionError):
                break
            try:
                proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        if proc.stdout is not None:
            proc.stdout.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        atexit.unregister(self.stop)

    def cleanup(self) -> None:
        """Stop, and remove the work directory if the harness created it."""
        self.stop()
        if self._own_workdir and os.environ.get("ECR_RENEW_KEEP_FAKES") != "1":
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.cleanup()

    # -- helpers ---------------------------------------------------------
    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def stderr_tail(self, lines: int = 40) -> str:
        try:
            with open(self.stderr_path, encoding="utf-8", errors="replace") as fh:
                return "".join(fh.readlines()[-lines:])
        except OSError:
            return ""

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        """Call one of the fake's /_fake/ endpoints; returns decoded JSON."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.endpoint + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with _opener.open(req, timeout=10) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as err:
            raise RuntimeError(f"{self.name} {method} {path}: {err.code} {err.read()[:300]!r}") from None

    def requests(self) -> list[dict[str, Any]]:
        """The request log (no secrets in it)."""
        return self.admin("GET", "/_fake/requests")

    def clear_requests(self) -> None:
        self.admin("DELETE", "/_fake/requests")

    def inject_fault(self, match: str, kind: str, count: int = 1, seconds: float | None = None) -> dict[str, Any]:
        """Arm a fault for the next ``count`` requests matching ``match``."""
        spec: dict[str, Any] = {"match": match, "kind": kind, "count": count}
        if seconds is not None:
            spec["seconds"] = seconds
        return self.admin("POST", "/_fake/faults", spec)

    def faults(self) -> list[dict[str, Any]]:
        return self.admin("GET", "/_fake/faults")

    def clear_faults(self) -> None:
        self.admin("DELETE", "/_fake/faults")


class FakeAws(FakeProcess):
    """fake_aws.py: IAM + STS + ECR + ECR Public under IAM enforcement.

    ECR Public: ``client("ecr-public", user="ecr-public-reader", region="us-east-1")``
    (any other region is refused like a wrong SigV4 scope); users
    ``ecr-public-reader`` (both permissions, plus ecr:GetAuthorizationToken)
    and ``ecr-public-half`` (no sts:GetServiceBearerToken), role
    ``ecr-renew-public``; faults ``inject_fault("ecr-public:GetAuthorizationToken", ...)``
    (a bare ``GetAuthorizationToken`` fault hits ECR only); the expected
    password ``ecr_public_password()``."""

    script = "fake_aws.py"
    name = "fake_aws"

    def __init__(self, scenario: str | dict[str, Any] | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(scenario, dict):
            path = os.path.join(self.workdir, "scenario.json")
            with open(path, "w", encoding="utf-8") as fh:
                json.dump(scenario, fh)
            scenario = path
        self.scenario_path = scenario or DEFAULT_SCENARIO
        self.state_path = os.path.join(self.workdir, "state.json")
        self.state: dict[str, Any] = {}

    def _args(self) -> list[str]:
        return ["--scenario", self.scenario_path, "--state-out", self.state_path,
                "--keys-dir", os.path.join(self.workdir, "oidc-keys")]

    def start(self) -> "FakeAws":
        super().start()
        with open(self.state_path, encoding="utf-8") as fh:
            self.state = json.load(fh)
        return self

    # -- scenario lookups -------------------------------------------------
    @property
    def account_id(self) -> str:
        return self.state["account_id"]

    @property
    def region(self) -> str:
        return self.state["region"]

    def keys(self, user: str, index: int = 0) -> tuple[str, str]:
        """(access key id, secret access key) of a scenario user."""
        key = self.state["users"][user]["access_keys"][index]
        return key["AccessKeyId"], key["SecretAccessKey"]

    def role_arn(self, name: str) -> str:
        return self.state["roles"][name]["arn"]

    def issuer(self, url: str | None = None) -> dict[str, Any]:
        """An OIDC issuer's state entry (the first one by default)."""
        issuers = self.state["oidc_issuers"]
        return issuers[url.rstrip("/")] if url else next(iter(issuers.values()))

    def registry_host(self, region: str | None = None, account: str | None = None) -> str:
        return f"{account or self.account_id}.dkr.ecr.{region or self.region}.amazonaws.com"

    @staticmethod
    def public_registry_host(dualstack: bool = False) -> str:
        """The registry an ECR Public token is for."""
        return ECR_PUBLIC_DUALSTACK_HOST if dualstack else ECR_PUBLIC_HOST

    # -- expected passwords (secret: never print them) ---------------------
    def ecr_password(self, region: str | None = None, account: str | None = None) -> str:
        """The password ECR GetAuthorizationToken hands out now (current
        generation) in ``region`` for ``account``."""
        query = urllib.parse.urlencode({"account": account or self.account_id, "region": region or self.region})
        return self.admin("GET", f"/_fake/ecr/password?{query}")["password"]

    def ecr_public_password(self, account: str | None = None) -> str:
        """The password ECR Public GetAuthorizationToken hands out now
        (current generation); never equal to an ECR password."""
        query = urllib.parse.urlencode({"account": account or self.account_id})
        return self.admin("GET", f"/_fake/ecr-public/password?{query}")["password"]

    # -- web identity -----------------------------------------------------
    def mint_jwt(self, sub: str = DEFAULT_SUBJECT, aud: str | list[str] = DEFAULT_AUDIENCE, *,
                 issuer: str | None = None, expires_in: int = 3600, exp: int | None = None,
                 iat: int | None = None, nbf: int | None = None, kid: Any = _DEFAULT,
                 extra: dict[str, Any] | None = None, private_key_pem: bytes | str | None = None) -> str:
        """A service-account token from a scenario issuer (signed with its key
        unless ``private_key_pem`` is given; ``kid`` defaults to the issuer's)."""
        info = self.issuer(issuer)
        return mint_jwt(private_key_pem or info["private_key_pem"], iss=info["issuer"], sub=sub, aud=aud,
                        expires_in=expires_in, exp=exp, iat=iat, nbf=nbf,
                        kid=info["kid"] if kid is _DEFAULT else kid, extra=extra)

    def write_token_file(self, path: str | None = None, **mint_kwargs: Any) -> str:
        """Mint a token into a file (mode 0600), as the EKS webhook mounts it."""
        path = path or os.path.join(self.workdir, f"web-identity-{secrets.token_hex(4)}.jwt")
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as fh:
            fh.write(self.mint_jwt(**mint_kwargs))
        return path

    # -- controls ---------------------------------------------------------
    def rotate_ecr(self) -> int:
        """New password generation for ECR and ECR Public; returns its number."""
        return self.admin("POST", "/_fake/ecr/rotate")["generation"]

    def configure_ecr(self, lifetime_seconds: float | None = None,
                      expires_at_format: str | None = None) -> dict[str, Any]:
        """Token lifetime (default 12 h) and expiresAt form: fraction|exponent|integer,
        for ECR and ECR Public alike."""
        body: dict[str, Any] = {}
        if lifetime_seconds is not None:
            body["lifetime_seconds"] = lifetime_seconds
        if expires_at_format is not None:
            body["expires_at_format"] = expires_at_format
        return self.admin("POST", "/_fake/ecr/config", body)

    def expire_sessions(self, access_key_id: str | None = None) -> int:
        """Make temporary credentials (one key, or all) expired now."""
        body = {"access_key_id": access_key_id} if access_key_id else {}
        return self.admin("POST", "/_fake/sts/expire", body)["expired"]

    # -- clients and environments ----------------------------------------
    def client(self, service: str, *, user: str | None = None, credentials: Any = None,
               region: str | None = None, signed: bool = True) -> Any:
        """A boto3 client for the fake (retries off), as ``user`` or with
        ``credentials`` ((id, secret[, token]) or an STS/metadata dict)."""
        import boto3
        import botocore
        from botocore.config import Config

        akid = secret = token = None
        if user:
            akid, secret = self.keys(user)
        elif credentials is not None:
            akid, secret, token = _credential_triple(credentials)
        config = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30)
        if not signed:
            config = config.merge(Config(signature_version=botocore.UNSIGNED))
        elif akid is None:
            raise ValueError("client() needs user=, credentials= or signed=False")
        _bypass_proxy_for_loopback()
        return boto3.session.Session().client(
            service, endpoint_url=self.endpoint, region_name=region or self.region,
            aws_access_key_id=akid, aws_secret_access_key=secret, aws_session_token=token,
            config=config,
        )

    def env(self, *, user: str | None = None, credentials: Any = None,
            web_identity: tuple[str, str] | tuple[str, str, str] | None = None,
            imds: "FakeImds | None" = None, container: "FakeContainerCreds | None" = None,
            region: str | None = None, extra: dict[str, str] | None = None,
            base: dict[str, str] | None = None) -> dict[str, str]:
        """A clean environment pointing an AWS client at this fake.

        Nothing is inherited but PASSTHROUGH_ENV (from ``base`` or os.environ);
        HOME is an empty directory, the shared config/credentials files point
        at files that do not exist, IMDS is disabled unless ``imds`` is given.
        Credentials: ``user`` (static keys), ``credentials`` ((id, secret[,
        token]) or a dict), ``web_identity`` ((role_arn, token_file[,
        session_name])), ``container`` (full URI + token file) — or none.
        """
        source = os.environ if base is None else base
        env = {k: source[k] for k in PASSTHROUGH_ENV if k in source}
        if "PYENV_ROOT" not in env and os.path.isdir(os.path.expanduser("~/.pyenv")):
            env["PYENV_ROOT"] = os.path.expanduser("~/.pyenv")
        home = os.path.join(self.workdir, "empty-home")
        os.makedirs(home, exist_ok=True)
        region = region or self.region
        env.update({
            "HOME": home,
            "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
            "AWS_CONFIG_FILE": os.path.join(self.workdir, "no-such-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.workdir, "no-such-aws-credentials"),
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_EC2_METADATA_DISABLED": "true",
        })
        if user:
            env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = self.keys(user)
        elif credentials is not None:
            akid, secret, token = _credential_triple(credentials)
            env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = akid, secret
            if token:
                env["AWS_SESSION_TOKEN"] = token
        if web_identity is not None:
            env["AWS_ROLE_ARN"], env["AWS_WEB_IDENTITY_TOKEN_FILE"] = web_identity[0], web_identity[1]
            env["AWS_ROLE_SESSION_NAME"] = web_identity[2] if len(web_identity) > 2 else "ecr-renew"
        if imds is not None:
            env["AWS_EC2_METADATA_DISABLED"] = "false"
            env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.endpoint
            env["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"] = "IPv4"
        if container is not None:
            env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = container.full_uri
            env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = container.token_file
        env.update(extra or {})
        return env


def _credential_triple(credentials: Any) -> tuple[str, str, str | None]:
    if isinstance(credentials, dict):
        return (credentials["AccessKeyId"], credentials["SecretAccessKey"],
                credentials.get("SessionToken") or credentials.get("Token"))
    akid, secret, *rest = credentials
    return akid, secret, (rest[0] if rest else None)


class _MetadataFake(FakeProcess):
    def __init__(self, aws: FakeAws, *, role_arn: str | None = None, role: str | None = None,
                 user: str = "admin", duration: int = 3600, region: str | None = None, **kwargs: Any):
        if not aws.state:
            raise ValueError("start the FakeAws first")
        kwargs.setdefault("workdir", os.path.join(aws.workdir, f"{self.name}-{secrets.token_hex(3)}"))
        super().__init__(**kwargs)
        self._own_workdir = True
        self.aws = aws
        self.role_arn = role_arn or aws.role_arn(role or "ecr-renew-node")
        self._role_args = ["--aws-state", aws.state_path, "--user", user, "--role-arn", self.role_arn,
                           "--duration", str(duration), "--region", region or aws.region]

    def rotate(self) -> None:
        """Serve fresh credentials from now on."""
        self.admin("POST", "/_fake/rotate")


class FakeImds(_MetadataFake):
    """fake_imds.py: strict IMDSv2 serving the role's real credentials."""

    script = "fake_imds.py"
    name = "fake_imds"

    def _args(self) -> list[str]:
        return self._role_args

    @property
    def role_name(self) -> str:
        return self.role_arn.rsplit("/", 1)[-1]

    def expire_tokens(self) -> int:
        """Invalidate every IMDSv2 session token issued so far."""
        return self.admin("POST", "/_fake/tokens/expire")["expired"]


class FakeContainerCreds(_MetadataFake):
    """fake_container_creds.py: EKS Pod Identity / ECS credentials endpoint."""

    script = "fake_container_creds.py"
    name = "fake_container_creds"

    def __init__(self, aws: FakeAws, *, token: str | None = None, path: str = "/v1/credentials",
                 **kwargs: Any):
        super().__init__(aws, **kwargs)
        self.path = path
        self.token_file = os.path.join(self.workdir, "eks-pod-identity-token")
        self.set_token(token or ("eyJfake." + secrets.token_urlsafe(48)))

    def _args(self) -> list[str]:
        return [*self._role_args, "--token-file", self.token_file, "--path", self.path]

    @property
    def token(self) -> str:
        with open(self.token_file, encoding="utf-8") as fh:
            return fh.read().strip()

    def set_token(self, token: str, trailing_newline: bool = False) -> None:
        """Rotate the accepted token (the file is re-read per request).

        Projected service-account tokens have no trailing newline, and
        botocore refuses one; ``trailing_newline=True`` writes one anyway to
        test a client that must trim it (the server never accepts it)."""
        with open(os.open(self.token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as fh:
            fh.write(token + ("\n" if trailing_newline else ""))

    @property
    def full_uri(self) -> str:
        return self.endpoint + self.path

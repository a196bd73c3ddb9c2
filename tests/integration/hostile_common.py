"""Plumbing for test_hostile.py: ecr-renew against the HOSTILE FAKE (tests/fakes/hostile).

Every run of the binary goes through HostileCase.check_run, which starts it as a child
in a session of its own, reaps it with os.wait4 (so the child's own rusage comes back),
and then asserts, besides what the test asks for (exit status, messages):

1. wall time within the test's bound (a hard watchdog kills the child a little after it,
   so a hang fails the test instead of the suite);
2. peak RSS (ru_maxrss, KiB on Linux) under 64 MiB, unless ECR_RENEW_SANITIZED=1 (an
   ASan build's shadow memory makes RSS meaningless; every other check still runs);
3. no secret in stdout or stderr: hostile find_leaks (any 16-character piece of a secret
   the fake handed out), the values the test itself planted, and common.TOKEN_SHAPED;
4. nothing written to the API server (no POST, PUT, PATCH or DELETE in the kube log)
   unless the case is a successful write; DELETE never;
5. no connection to the canary listener (127.0.0.2), ever;
6. every stderr line well formed: valid UTF-8, no raw control byte (C0 or DEL) besides
   the final newline; in text format a line starts with an RFC 3339 UTC timestamp
   `YYYY-MM-DDTHH:MM:SSZ ` of the run (so a forged line with another time is caught) or is
   a usage error (`ecr-renew ...`, then `Try 'ecr-renew ...`); in json format every line
   is a JSON object;
7. no request anywhere carried a smuggled header (the cases plant `X-Smuggled`).

Set HOSTILE_SHOW=1 to print every run's exit, time, RSS and (redacted) stderr.
Secrets are compared without being printed; messages go through hs.redact and
TOKEN_SHAPED before they reach an assertion message.
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
from dataclasses import dataclass, field

from tests.integration.common import BIN, ROOT, TOKEN_SHAPED, require_binary


def _load_hostile_harness():
    # By path, under a unique name: tests/fakes/aws and tests/fakes/kube have a harness.py too.
    name = "hostile_harness"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, os.path.join(ROOT, "tests", "fakes", "hostile", "harness.py"))
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


hostile = _load_hostile_harness()
HostileServer = hostile.HostileServer

SANITIZED = os.environ.get("ECR_RENEW_SANITIZED") == "1"
RSS_LIMIT_KIB = 64 * 1024            # the bound: 64 MiB whatever a server or file sends
# A normal run takes ~30 ms against the local fake; 5 s is two orders of magnitude of
# slack (an ASan build, a loaded 2-core machine) while still catching any wait that
# does not belong there (a backoff that honours a long Retry-After, a blocking open).
DEFAULT_WALL = 5.0
WATCHDOG_SLACK = 5.0                 # the child is SIGKILLed this long after its bound

ACCOUNT = "123456789012"
REGISTRY = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
SECRET_NAME = "ecr-registry-secret"
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
SMUGGLED = "X-Smuggled: 1"
CRLF_SMUGGLE = "\r\n" + SMUGGLED

# The launcher every run goes through. ru_maxrss from wait4 on a direct child of this test
# process is useless: Linux keeps, across exec, the high-water RSS of the memory the child
# had before exec, which for a vfork (Python's subprocess) is this process's own peak, tens
# or hundreds of MiB once a test has built a big answer. A fresh `python3 -S` forking the
# binary has a floor of ~6 MiB (the copy it forks), and ru_maxrss is a maximum, so that
# floor never adds to what ecr-renew itself used.
SPAWN = r"""
import json, os, sys, time
result, argv = sys.argv[1], sys.argv[2:]
t0 = time.monotonic()
pid = os.fork()
if pid == 0:
    try:
        os.execv(argv[0], argv)
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
wall = time.monotonic() - t0
with open(result, "w") as f:
    json.dump({"status": status, "maxrss": ru.ru_maxrss, "wall": wall, "pid": pid}, f)
"""

TIMESTAMP = re.compile(rb"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z) ")
CONTROL = re.compile(rb"[\x00-\x1f\x7f]")


@dataclass
class Run:
    args: list
    returncode: int
    stdout: bytes
    stderr: bytes
    wall: float
    maxrss_kib: int
    watchdog_killed: bool
    pid: int
    requests: list = field(default_factory=list)

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace")

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", "replace")


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then closed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def pieces(value: str, window: int = 16) -> set:
    if len(value) <= window:
        return {value}
    return {value[i:i + window] for i in range(len(value) - window + 1)}


class HostileCase(unittest.TestCase):
    """One HostileServer per class, reset (rules, logs, objects) before every test."""

    hs: HostileServer
    server_kwargs: dict = {}
    # Only our (redacted) message on failure: unittest's own would print the compared values,
    # which may be stderr, stdout or request heads holding secrets.
    longMessage = False

    @classmethod
    def setUpClass(cls):
        require_binary(cls)
        cls.hs = HostileServer(**cls.server_kwargs).start()

    @classmethod
    def tearDownClass(cls):
        cls.hs.stop()

    def setUp(self):
        require_binary(self)
        self.hs.reset()
        root = tempfile.mkdtemp(prefix="ecr-renew-hostile-")
        self.addCleanup(shutil.rmtree, root, True)
        self.tmp = os.path.join(root, "files")      # the test's own files (kubeconfigs, FIFOs, -o targets)
        self.runs_dir = os.path.join(root, "runs")  # captured stdout/stderr/rusage, apart from them
        os.mkdir(self.tmp)
        os.mkdir(self.runs_dir)
        self.planted: list[str] = []     # secrets the test put in answers or files

    # -- what a test states ---------------------------------------------------------

    def rule(self, role, mode, **kw):
        return self.hs.misbehave(role, mode, **kw)

    def plant(self, *values: str) -> None:
        """Values that must never appear in any output (a planted token or password)."""
        self.planted.extend(v for v in values if v)

    def env(self, credentials="static", *, drop=(), **extra):
        env = self.hs.env(credentials, extra={k: v for k, v in extra.items() if v is not None})
        for k in drop:
            env.pop(k, None)
        return env

    def path(self, name: str) -> str:
        return os.path.join(self.tmp, name)

    def write_file(self, name: str, data, mode: int = 0o600) -> str:
        p = self.path(name)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        return p

    def kubeconfig_doc(self, user: dict, server: str | None = None) -> dict:
        return {"apiVersion": "v1", "kind": "Config", "preferences": {},
                "clusters": [{"name": "hostile", "cluster": {"server": server or self.hs.kube_url,
                                                             "certificate-authority": self.hs.ca_file}}],
                "users": [{"name": "hostile", "user": user}],
                "contexts": [{"name": "hostile", "context": {"cluster": "hostile", "user": "hostile",
                                                             "namespace": "default"}}],
                "current-context": "hostile"}

    def exec_kubeconfig(self, script: str, name: str = "plugin.sh") -> str:
        """A kubeconfig whose user runs `script` (a /bin/sh body) as an exec credential plugin."""
        plugin = self.write_file(name, "#!/bin/sh\n" + script, 0o700)
        user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": plugin,
                         "args": [], "interactiveMode": "Never"}}
        return self.write_file("kubeconfig-exec", json.dumps(self.kubeconfig_doc(user), indent=1))

    # -- the one runner every test uses ----------------------------------------------

    def check_run(self, args, env=None, *, exit=None, messages=(), absent=(), max_wall=DEFAULT_WALL,
                  writes=False, stdout_secret=False, stdin=None) -> Run:
        """Run ecr-renew ARGS and assert every property in the module docstring.

        exit: an int, a tuple of ints, or "nonzero"; messages/absent: substrings of stderr
        that must / must not appear; max_wall: seconds; writes: the case is a successful
        write to the API server; stdout_secret: stdout is the command's secret output."""
        env = self.env() if env is None else env
        args = [str(a) for a in args]
        stamp = time.monotonic_ns()
        out_path, err_path, result_path = (os.path.join(self.runs_dir, f"{n}-{stamp}")
                                           for n in ("stdout", "stderr", "rusage"))
        with open(out_path, "wb") as out_f, open(err_path, "wb") as err_f:
            wall_start = time.time()
            t0 = time.monotonic()
            # Through a small launcher (see SPAWN), in a session of its own so the watchdog can
            # kill the whole group (launcher, ecr-renew, exec plugins).
            launcher = subprocess.Popen([sys.executable, "-S", "-c", SPAWN, result_path, BIN] + args, env=env,
                                        stdin=stdin if stdin is not None else subprocess.DEVNULL,
                                        stdout=out_f, stderr=err_f, start_new_session=True)
            hard = t0 + max_wall + WATCHDOG_SLACK
            killed = False
            while True:
                pid, status, _ = os.wait4(launcher.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() > hard and not killed:
                    killed = True
                    try:
                        os.killpg(launcher.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                time.sleep(0.005)
            launcher.returncode = os.waitstatus_to_exitcode(status)
            wall_end = time.time()
        try:
            with open(result_path) as f:
                result = json.load(f)
            returncode = os.waitstatus_to_exitcode(result["status"])
            wall, maxrss, child = result["wall"], result["maxrss"], result["pid"]
        except (OSError, ValueError, KeyError):
            self.assertTrue(killed, "the launcher failed (exit %d) without a result" % launcher.returncode)
            returncode, wall, maxrss, child = -signal.SIGKILL, time.monotonic() - t0, 0, 0
        with open(out_path, "rb") as f:
            stdout = f.read()
        with open(err_path, "rb") as f:
            stderr = f.read()
        run = Run(args, returncode, stdout, stderr, wall, maxrss, killed, child)
        run.requests = self.hs.requests()
        if os.environ.get("HOSTILE_SHOW"):  # redacted, for reading what each case printed
            sys.stderr.write("\n[%s] %s\n" % (self.id().rsplit(".", 1)[-1], self.describe(run)))
        self._assert_run(run, env, exit=exit, messages=messages, absent=absent, max_wall=max_wall,
                         writes=writes, stdout_secret=stdout_secret, wall_start=wall_start, wall_end=wall_end)
        return run

    # -- the checks -------------------------------------------------------------------

    def safe(self, data) -> str:
        """Text fit for an assertion message: known and planted secrets and token shapes removed."""
        text = self.hs.redact(data)
        for v in sorted(self.planted, key=len, reverse=True):
            if len(v) >= 6:
                text = text.replace(v, "<planted>")
        text = TOKEN_SHAPED.sub("<token-shaped>", text)
        return text[-3000:]

    def describe(self, run: Run) -> str:
        return "ecr-renew %s: exit %d in %.2fs, maxrss %d KiB; stderr:\n%s" % (
            " ".join(run.args)[:200], run.returncode, run.wall, run.maxrss_kib, self.safe(run.stderr))

    def _assert_run(self, run, env, *, exit, messages, absent, max_wall, writes, stdout_secret, wall_start,
                    wall_end):
        d = lambda: self.describe(run)  # noqa: E731
        self.assertFalse(run.watchdog_killed, "the run did not end %.0fs after its %.1fs bound (killed): %s"
                         % (WATCHDOG_SLACK, max_wall, d()))
        self.assertGreaterEqual(run.returncode, 0, "killed by signal %d: %s" % (-run.returncode, d()))
        if exit == "nonzero":
            self.assertNotEqual(run.returncode, 0, "expected a failure: " + d())
        elif isinstance(exit, int):
            self.assertEqual(run.returncode, exit, "exit status: " + d())
        elif exit is not None:
            self.assertIn(run.returncode, tuple(exit), "exit status: " + d())
        self.assertLessEqual(run.wall, max_wall, "wall time over %.1fs: %s" % (max_wall, d()))
        if not SANITIZED:
            self.assertLess(run.maxrss_kib, RSS_LIMIT_KIB, "peak RSS over 64 MiB: " + d())
        # Secrets.
        streams = [("stderr", run.stderr)] + ([] if stdout_secret else [("stdout", run.stdout)])
        for name, data in streams:
            text = data.decode("latin-1")
            leaks = self.hs.find_leaks(text)
            self.assertEqual(leaks, [], "secrets (by name) leaked in %s: %s" % (name, d()))
            for v in self.planted:
                self.assertFalse(any(p in text for p in pieces(v)),
                                 "a planted secret (or a 16-character piece) appeared in %s: %s" % (name, d()))
            shaped = TOKEN_SHAPED.findall(text)
            self.assertEqual(len(shaped), 0, "%d token-shaped strings in %s: %s" % (len(shaped), name, d()))
        # The API server and other hosts.
        kube_writes = [(e["method"], e["path"]) for e in run.requests
                       if e["role"] == "kube" and e["method"] in WRITE_METHODS]
        if writes:
            self.assertFalse([w for w in kube_writes if w[0] in ("DELETE", "PATCH")], "DELETE or PATCH sent")
        else:
            self.assertEqual(kube_writes, [], "wrote to the API server: " + d())
        canary = self.hs.canary_connections()
        self.assertEqual(len(canary), 0, "%d connections to the canary %s: %s" % (
            len(canary), self.hs.canary_host, d()))
        smuggled = [e["role"] for e in run.requests if b"x-smuggled" in self.hs.raw_head(e).lower()]
        self.assertEqual(smuggled, [], "a request carried a smuggled header: " + d())
        # Log lines.
        self.assert_log_lines(run, env, wall_start, wall_end)
        for m in messages:
            self.assertTrue(m in run.err, "message %r missing: %s" % (m, d()))
        for m in absent:
            self.assertFalse(m in run.err, "text %r must not appear: %s" % (m, d()))

    def log_format(self, run: Run, env) -> str:
        fmt = env.get("ECR_RENEW_LOG_FORMAT") or "text"
        for i, a in enumerate(run.args):
            if a == "--log-format" and i + 1 < len(run.args):
                fmt = run.args[i + 1]
            elif a.startswith("--log-format="):
                fmt = a.split("=", 1)[1]
        return fmt

    def assert_log_lines(self, run: Run, env, wall_start: float, wall_end: float):
        d = lambda: self.describe(run)  # noqa: E731
        data = run.stderr
        if not data:
            return
        self.assertTrue(data.endswith(b"\n"), "stderr does not end with a newline: " + d())
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            self.fail("stderr is not valid UTF-8: " + d())
        fmt = self.log_format(run, env)
        lo = datetime.datetime.fromtimestamp(int(wall_start) - 2, datetime.timezone.utc)
        hi = datetime.datetime.fromtimestamp(int(wall_end) + 2, datetime.timezone.utc)
        usage = False
        for n, line in enumerate(data[:-1].split(b"\n"), 1):
            bad = CONTROL.search(line)
            self.assertIsNone(bad, "stderr line %d holds a raw control byte %r: %s" % (
                n, bad.group(0) if bad else b"", d()))
            if fmt == "json":
                try:
                    obj = json.loads(line)
                except ValueError:
                    obj = None
                self.assertIsInstance(obj, dict, "stderr line %d is not a JSON object: %s" % (n, d()))
                continue
            m = TIMESTAMP.match(line)
            if m:
                when = datetime.datetime.strptime(m.group(1).decode(), "%Y-%m-%dT%H:%M:%SZ").replace(
                    tzinfo=datetime.timezone.utc)
                self.assertTrue(lo <= when <= hi, "stderr line %d starts with a time that is not the run's "
                                "(a forged line?): %s" % (n, d()))
                usage = False
            elif line.startswith(b"ecr-renew"):
                usage = True
            elif usage and line.startswith(b"Try 'ecr-renew"):
                pass
            else:
                self.fail("stderr line %d is neither a log line nor a usage error: %s" % (n, d()))

    # -- helpers for common assertions -------------------------------------------------

    def assert_no_request(self, run: Run):
        self.assertEqual([(e["role"], e["method"]) for e in run.requests], [],
                         "requests were sent: " + self.describe(run))

    def assert_no_line_starts(self, run: Run, prefix: str):
        for line in run.err.split("\n"):
            self.assertFalse(line.startswith(prefix), "a forged line reached the log: " + self.describe(run))
            if line.startswith("{"):
                try:
                    msg = str(json.loads(line).get("msg", ""))
                except ValueError:
                    continue
                self.assertFalse(msg.startswith(prefix), "a forged line reached the log: " + self.describe(run))

    def stored_secret_names(self) -> list:
        """namespace/name of every stored Secret (never their data)."""
        return ["%s/%s" % (s["metadata"].get("namespace"), s["metadata"].get("name"))
                for s in self.hs.kube_objects()["secrets"]]

    def pid_gone(self, pid: int, within: float = 1.0) -> bool:
        """True if `pid` has exited (a zombie counts as gone) within `within` seconds."""
        deadline = time.monotonic() + within
        while True:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
                if state in ("Z", "X"):
                    return True
            except (FileNotFoundError, ProcessLookupError, IndexError):
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)

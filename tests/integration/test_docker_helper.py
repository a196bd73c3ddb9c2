"""ecr-renew docker-credential-helper, also run as docker-credential-ecr-login.

Against the AWS stand-in (moto with IAM enforced, tests/fakes/aws):

  * the protocol of REFERENCE-2 §6 byte for byte, both as
    `ecr-renew docker-credential-helper ACTION` and through a symlink
    `docker-credential-ecr-login` on PATH; where the Debian package
    amazon-ecr-credential-helper is installed, its answers to the same
    AWS-free inputs are compared byte for byte too;
  * the cache: its own file (never the reference helper's cache.json),
    0700/0600, a token served from it without any AWS call, AWS_ECR_DISABLE_CACHE,
    a corrupt file replaced, 20 gets at once (one AWS call, all served,
    the file valid);
  * keying by identity: two users' keys never share an entry, while web
    identity, container and instance credentials (whose temporary keys
    change) hit it;
  * the stale rules: past half its life and AWS down, a token with more
    than 10 minutes left is served; with less, or expired, get fails with
    the not-found text;
  * no log file unless ECR_RENEW_HELPER_LOG asks for one (0600);
  * real consumers: skopeo, podman (--storage-driver vfs) and buildah pull
    from a real registry (tests/harness/registry.py, Debian's
    docker-registry under the ECR host name in a private network and mount
    namespace) with an auth file whose credHelpers maps the host to
    ecr-login, i.e. to ecr-renew on PATH; once the token has expired and
    AWS is down, the helper refuses and so does the registry.

The consumers run inside the registry's namespace, where the stand-in's
loopback port does not exist: a forwarder listening in that namespace
(a socket made by a thread that entered it with setns) carries the
helper's AWS calls to the stand-in.
"""

import ctypes
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

from tests.integration.common import BIN, ToolTestCase, aws_harness

NOT_FOUND = b"credentials not found in native keychain\n"
REFERENCE_HELPER = "/usr/bin/docker-credential-ecr-login"  # Debian's package
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL("libc.so.6", use_errno=True)


# -- network namespaces ------------------------------------------------------

def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


class Forwarder:
    """Listens on 127.0.0.1:port inside the network namespace of ns_pid and
    carries each connection to 127.0.0.1:target_port of this process's own
    namespace. wrap (e.g. an SSL context's server-side wrap) is applied to
    each accepted connection: a TLS front."""

    def __init__(self, ns_pid, target_port, port=0, wrap=None):
        self.target_port = target_port
        self.wrap = wrap
        box = {}

        def listen():
            # setns changes only this thread's namespace; the socket keeps
            # the namespace it was made in.
            own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
            other = os.open("/proc/%d/ns/net" % ns_pid, os.O_RDONLY)
            try:
                _setns(other)
                sock = socket.socket()
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(("127.0.0.1", port))
                sock.listen(128)
                box["sock"] = sock
            finally:
                _setns(own)
                os.close(own)
                os.close(other)

        thread = threading.Thread(target=listen)
        thread.start()
        thread.join()
        self.sock = box["sock"]
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._pump, args=(conn,), daemon=True).start()

    def _pump(self, conn):
        upstream = None
        try:
            # Small writes go out at once: Nagle's algorithm against the
            # peer's delayed ACK would add tens of milliseconds a call.
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.wrap:
                conn = self.wrap(conn)
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            ends = [conn, upstream]
            while True:
                # Decrypted bytes already inside the TLS layer wake no select.
                pending = [e for e in ends if getattr(e, "pending", lambda: 0)()]
                ready = pending or select.select(ends, [], [], 120)[0]
                if not ready:
                    return
                for end in ready:
                    data = end.recv(65536)
                    if not data:
                        return
                    (upstream if end is conn else conn).sendall(data)
        except (OSError, ValueError):
            return
        finally:
            conn.close()
            if upstream:
                upstream.close()

    def close(self):
        self.sock.close()


class NetNamespace:
    """A private network and mount namespace whose /etc/hosts maps the given
    names to 127.0.0.1, held by a sleeping process (as tests/harness/registry.py
    does for the registry)."""

    def __init__(self, names, workdir):
        self.dir = workdir
        self.names = names
        self._holder = None

    def __enter__(self):
        hosts = os.path.join(self.dir, "hosts")
        with open(hosts, "w") as f:
            f.write("127.0.0.1 localhost\n" + "".join("127.0.0.1 %s\n" % n for n in self.names))
        pidfile = os.path.join(self.dir, "ns-holder.pid")
        script = ("set -e; ip link set lo up; mount --bind %s /etc/hosts; "
                  "echo $$ > %s; exec sleep 86400" % (hosts, pidfile))
        self._holder = subprocess.Popen(["unshare", "--net", "--mount", "--fork", "--",
                                         "bash", "-c", script], start_new_session=True)
        for _ in range(100):
            if os.path.exists(pidfile) and open(pidfile).read().strip():
                self.ns_pid = int(open(pidfile).read())
                return self
            time.sleep(0.05)
        self.__exit__()
        raise RuntimeError("namespace holder did not start")

    def __exit__(self, *exc):
        if self._holder and self._holder.poll() is None:
            os.killpg(self._holder.pid, signal.SIGTERM)
            self._holder.wait(timeout=5)

    def prefix(self):
        return ["nsenter", "-t", str(self.ns_pid), "--net", "--mount", "--"]


def can_use_namespaces():
    return os.geteuid() == 0 and all(shutil.which(t) for t in ("unshare", "nsenter", "ip"))


# -- the helper ----------------------------------------------------------------

class HelperTestCase(ToolTestCase):
    """One AWS stand-in per class; each test gets its own cache directory,
    and a bin directory where docker-credential-ecr-login is ecr-renew."""

    @classmethod
    def setUpClass(cls):
        cls.start_aws()

    def setUp(self):
        super().setUp()
        self.aws.clear_faults()
        self.aws.configure_ecr(lifetime_seconds=43200)
        self.aws.clear_requests()
        self.tmp = tempfile.mkdtemp(prefix="ecr-renew-helper-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.cache_dir = os.path.join(self.tmp, "cache")
        self.bin_dir = os.path.join(self.tmp, "bin")
        os.makedirs(self.bin_dir)
        self.link = os.path.join(self.bin_dir, "docker-credential-ecr-login")
        os.symlink(os.path.abspath(BIN), self.link)
        self.host = self.aws.registry_host()
        for user in ("ecr-reader", "ecr-public-reader", "no-perms", "admin"):
            self.remember_secret(self.aws.keys(user)[1])
        self.remember_secret(self.aws.ecr_password())

    def env(self, user="ecr-reader", **extra):
        env = self.aws.env(user=user, extra=extra) if user else self.aws.env(extra=extra)
        env.setdefault("AWS_ECR_CACHE_DIR", self.cache_dir)
        env["PATH"] = self.bin_dir + ":" + env.get("PATH", "/usr/bin:/bin")
        return {k: v for k, v in env.items() if v is not None}

    def helper(self, action, stdin=b"", env=None, as_peer=False, **kw):
        """Runs one action; returns CompletedProcess with bytes out and err."""
        env = env if env is not None else self.env()
        argv = [self.link, action] if as_peer else [BIN, "docker-credential-helper", action]
        proc = subprocess.run(argv, input=stdin, env=env, capture_output=True, timeout=120, **kw)
        text = subprocess.CompletedProcess(argv, proc.returncode,
                                           proc.stdout.decode("utf-8", "replace"),
                                           proc.stderr.decode("utf-8", "replace"))
        self._runs.append(([action], text, action == "get"))
        return proc

    def get(self, server=None, **kw):
        return self.helper("get", (server or self.host).encode(), **kw)

    def expected(self, server, password, username="AWS"):
        return ('{"ServerURL":%s,"Username":"%s","Secret":"%s"}\n' % (
            json.dumps(server), username, password)).encode()

    def ecr_calls(self):
        return [r for r in self.aws.requests() if r.get("action") == "GetAuthorizationToken"]

    def cache_file(self):
        return os.path.join(self.cache_dir, "ecr-renew-cache.json")

    def read_cache(self):
        with open(self.cache_file()) as f:
            return json.load(f)

    def write_cache(self, doc):
        with open(os.open(self.cache_file(), os.O_WRONLY | os.O_TRUNC), "w") as f:
            json.dump(doc, f)


class ProtocolTest(HelperTestCase):
    def test_get__both_names__exact_json_line(self):
        password = self.aws.ecr_password()
        for as_peer in (False, True):
            proc = self.get(as_peer=as_peer, env=self.env(AWS_ECR_DISABLE_CACHE="1"))
            self.assertEqual(proc.returncode, 0, proc.stderr[-500:])
            self.assertTrue(proc.stdout == self.expected(self.host, password),
                            "stdout is not the reference's JSON line")
            self.assertEqual(proc.stderr, b"")

    def test_get__server_url_forms__echoed_trimmed_go_escaped(self):
        password = self.aws.ecr_password()
        cases = [
            ("https://%s" % self.host, "https://%s" % self.host),
            ("https://%s/v2/\n" % self.host, "https://%s/v2/" % self.host),
            ("  %s\r\n" % self.host, self.host),
            # docker writes no newline; lines are joined as bufio.Scanner's.
            ("%s\n" % self.host, self.host),
        ]
        for given, echoed in cases:
            proc = self.get(given)
            self.assertEqual(proc.returncode, 0, proc.stderr[-300:])
            self.assertTrue(proc.stdout == self.expected(echoed, password), repr(given))
        # Go's json.Encoder escapes <, > and & (HTML-safe) as \u003c...
        proc = self.get("https://%s/v2/?a=1&b=<2>" % self.host)
        self.assertEqual(proc.returncode, 0)
        self.assertTrue(proc.stdout.startswith(
            b'{"ServerURL":"https://%s/v2/?a=1\\u0026b=\\u003c2\\u003e","Username"'
            % self.host.encode()))

    def test_get__ecr_public_and_an_alias(self):
        public_password = self.aws.ecr_public_password()
        self.remember_secret(public_password)
        env = self.env(user="ecr-public-reader")
        proc = self.get("public.ecr.aws", env=env)
        self.assertEqual(proc.returncode, 0, proc.stderr[-300:])
        self.assertTrue(proc.stdout == self.expected("public.ecr.aws", public_password))
        env["ECR_RENEW_REGISTRY_HOSTS"] = "mirror.example.com=" + self.host
        proc = self.get("https://mirror.example.com/v2/", env=env)
        self.assertEqual(proc.returncode, 0, proc.stderr[-300:])
        self.assertTrue(proc.stdout == self.expected("https://mirror.example.com/v2/",
                                                     self.aws.ecr_password()))
        # The alias shares the registry's entry; ECR Public has its own.
        self.assertEqual(sorted(e["registry"] for e in self.read_cache()["entries"]),
                         sorted([self.host, "public.ecr.aws"]))

    def test_get__not_ecr__not_found_on_stdout_reason_on_stderr(self):
        for as_peer in (False, True):
            proc = self.get("https://index.docker.io/v1/", as_peer=as_peer)
            self.assertEqual(proc.returncode, 1)
            self.assertEqual(proc.stdout, NOT_FOUND)
            lines = proc.stderr.decode().splitlines()
            self.assertEqual(len(lines), 1, proc.stderr)
            self.assertIn("index.docker.io is not an Amazon ECR registry host", lines[0])
        self.assertEqual(self.ecr_calls(), [])

    def test_get__refused_by_aws__not_found_and_the_reason(self):
        proc = self.get(env=self.env(user="no-perms"))
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stdout, NOT_FOUND)
        lines = proc.stderr.decode().splitlines()
        self.assertEqual(len(lines), 1, proc.stderr)
        self.assertIn("AccessDenied", lines[0])
        self.assertFalse(os.path.exists(self.cache_file()))

    def test_get__empty_input__no_server_url(self):
        for stdin in (b"", b" \n\t\r\n"):
            proc = self.helper("get", stdin)
            self.assertEqual((proc.returncode, proc.stdout), (1, b"no credentials server URL\n"))

    def test_store_erase__not_implemented_unless_ignored(self):
        creds = json.dumps({"ServerURL": self.host, "Username": "AWS", "Secret": "x"}).encode()
        for action, stdin in (("store", creds), ("erase", self.host.encode())):
            proc = self.helper(action, stdin)
            self.assertEqual((proc.returncode, proc.stdout), (1, b"not implemented\n"))
            proc = self.helper(action, stdin, env=self.env(AWS_ECR_IGNORE_CREDS_STORAGE="true"))
            self.assertEqual((proc.returncode, proc.stdout, proc.stderr), (0, b"", b""))
        self.assertEqual(self.aws.requests(), [])

    def test_list__cached_registries_with_and_without_scheme_no_aws_call(self):
        proc = self.helper("list", b"unused")
        self.assertEqual((proc.returncode, proc.stdout), (0, b"{}\n"))
        self.assertEqual(self.get().returncode, 0)
        self.aws.clear_requests()
        for as_peer in (False, True):
            proc = self.helper("list", b"unused", as_peer=as_peer)
            self.assertEqual(proc.returncode, 0)
            self.assertEqual(proc.stdout, ('{"%s":"AWS","https://%s":"AWS"}\n' % (
                self.host, self.host)).encode())
        self.assertEqual(self.aws.requests(), [])

    def test_version_usage_unknown_action(self):
        version = subprocess.run([BIN, "version"], capture_output=True, text=True).stdout
        number = version.split()[1]
        for as_peer, name in ((False, "ecr-renew docker-credential-helper"),
                              (True, "docker-credential-ecr-login")):
            proc = self.helper("version", as_peer=as_peer)
            self.assertEqual(proc.stdout, ("docker-credential-ecr-login (ecr-renew) %s\n"
                                           % number).encode())
            argv = [self.link] if as_peer else [BIN, "docker-credential-helper"]
            proc = subprocess.run(argv, capture_output=True)
            self.assertEqual((proc.returncode, proc.stdout), (
                1, ("Usage: %s <store|get|erase|list|version>\n" % name).encode()))
            proc = self.helper("frob", as_peer=as_peer)
            self.assertEqual((proc.returncode, proc.stdout),
                             (1, b"Unknown credential action `frob`\n"))

    @unittest.skipUnless(os.access(REFERENCE_HELPER, os.X_OK),
                         "amazon-ecr-credential-helper (Debian) is not installed")
    def test_same_bytes_as_the_reference_helper_where_no_aws_is_involved(self):
        env = self.env(AWS_ECR_DISABLE_CACHE="1")
        for action, stdin in (("get", b"https://index.docker.io/v1/"), ("get", b""),
                              ("get", b"example.com\n"), ("frob", b"")):
            ours = self.helper(action, stdin, env=env, as_peer=True)
            ref = subprocess.run([REFERENCE_HELPER, action], input=stdin, env=env,
                                 capture_output=True, timeout=60)
            self.assertEqual((ours.returncode, ours.stdout), (ref.returncode, ref.stdout),
                             "%s %r" % (action, stdin))
        # Debian ships 0.6.4, whose usage line names argv[0] and lacks
        # "version"; 0.12's (REFERENCE-2 §6.1) is the one matched above.


class CacheTest(HelperTestCase):
    def test_cache__own_file_modes_hit_without_aws(self):
        ref_cache = os.path.join(self.cache_dir, "cache.json")
        os.makedirs(self.cache_dir, mode=0o700)
        with open(ref_cache, "w") as f:
            f.write('{"Registries":{},"Version":"1.0"}')
        first = self.get()
        self.assertEqual(first.returncode, 0, first.stderr[-300:])
        self.assertEqual(len(self.ecr_calls()), 1)
        self.assertEqual(os.stat(self.cache_dir).st_mode & 0o777, 0o700)
        self.assertEqual(os.stat(self.cache_file()).st_mode & 0o777, 0o600)
        with open(ref_cache) as f:
            self.assertEqual(f.read(), '{"Registries":{},"Version":"1.0"}')
        self.aws.clear_requests()
        for as_peer in (False, True):
            again = self.get(as_peer=as_peer)
            self.assertTrue(again.stdout == first.stdout)
        self.assertEqual(self.aws.requests(), [], "a cached token needs no AWS call")
        doc = self.read_cache()
        self.assertEqual(doc["format"], "ecr-renew-cache/1")
        [entry] = doc["entries"]
        self.assertEqual(entry["registry"], self.host)
        self.assertTrue(entry["password"] == self.aws.ecr_password())
        self.assertAlmostEqual(entry["expires_at"] - entry["fetched_at"], 43200, delta=2)
        # Only a hash of the identity is stored, never the key id.
        self.assertNotIn(self.aws.keys("ecr-reader")[0], json.dumps(doc))
        self.assertEqual(sorted(os.listdir(self.cache_dir)),
                         ["cache.json", "ecr-renew-cache.json", "ecr-renew-cache.json.lock"])

    def test_cache__home_default_and_disabled(self):
        env = self.env()
        del env["AWS_ECR_CACHE_DIR"]
        env["HOME"] = os.path.join(self.tmp, "home")
        os.makedirs(env["HOME"])
        self.assertEqual(self.get(env=env).returncode, 0)
        self.assertTrue(os.path.exists(os.path.join(env["HOME"], ".ecr", "ecr-renew-cache.json")))
        self.assertEqual(os.stat(os.path.join(env["HOME"], ".ecr")).st_mode & 0o777, 0o700)
        self.aws.clear_requests()
        env["AWS_ECR_DISABLE_CACHE"] = "yes"
        env["AWS_ECR_CACHE_DIR"] = os.path.join(self.tmp, "off")
        for _ in range(2):
            self.assertEqual(self.get(env=env).returncode, 0)
        self.assertEqual(len(self.ecr_calls()), 2)
        self.assertFalse(os.path.exists(env["AWS_ECR_CACHE_DIR"]))

    def test_cache__corrupt_or_foreign_file__replaced(self):
        os.makedirs(self.cache_dir, mode=0o700)
        for junk in ("{not json", '{"Registries":{},"Version":"1.0"}', "[]", "\0" * 100):
            with open(self.cache_file(), "w") as f:
                f.write(junk)
            proc = self.get()
            self.assertEqual(proc.returncode, 0, proc.stderr[-300:])
            self.assertIn("not an ecr-renew cache", proc.stderr.decode())
            self.assertEqual(len(self.read_cache()["entries"]), 1)

    def test_cache__dir_writable_by_others__not_used_still_served(self):
        os.makedirs(self.cache_dir)
        os.chmod(self.cache_dir, 0o777)
        proc = self.get()
        self.assertEqual(proc.returncode, 0)
        self.assertIn("writable by others", proc.stderr.decode())
        self.assertFalse(os.path.exists(self.cache_file()))

    def test_cache__twenty_gets_at_once__one_aws_call_file_valid(self):
        env = self.env()

        def one(_):
            return self.get(env=env)

        for round_ in ("cold", "warm"):
            self.aws.clear_requests()
            with ThreadPoolExecutor(max_workers=20) as pool:
                results = list(pool.map(one, range(20)))
            for proc in results:
                self.assertEqual(proc.returncode, 0, proc.stderr[-300:])
                self.assertTrue(proc.stdout == self.expected(self.host, self.aws.ecr_password()))
            self.assertEqual(len(self.ecr_calls()), 1 if round_ == "cold" else 0, round_)
            self.assertEqual(len(self.read_cache()["entries"]), 1)
        self.assertEqual(sorted(os.listdir(self.cache_dir)),
                         ["ecr-renew-cache.json", "ecr-renew-cache.json.lock"])

    def test_log_file__only_when_asked__0600_no_secret(self):
        self.assertEqual(self.get().returncode, 0)
        self.assertEqual(sorted(os.listdir(self.cache_dir)),
                         ["ecr-renew-cache.json", "ecr-renew-cache.json.lock"])
        log = os.path.join(self.tmp, "helper.log")
        proc = self.get("https://index.docker.io/v1/", env=self.env(ECR_RENEW_HELPER_LOG=log))
        self.assertEqual(proc.stdout, NOT_FOUND)
        self.assertEqual(os.stat(log).st_mode & 0o777, 0o600)
        with open(log) as f:
            text = f.read()
        self.assertIn("index.docker.io is not an Amazon ECR registry host", text)
        self.assertIn(text.strip(), proc.stderr.decode())  # the same line, on both
        proc = self.get(env=self.env(ECR_RENEW_HELPER_LOG=log))
        self.assertEqual(proc.returncode, 0)
        with open(log) as f:
            self.assertEqual(f.read(), text)  # a success says nothing


class IdentityTest(HelperTestCase):
    def test_two_users__never_each_others_token(self):
        first = self.get(env=self.env(user="ecr-reader"))
        self.assertEqual(first.returncode, 0)
        self.aws.rotate_ecr()  # passwords are per generation: now tell them apart
        self.remember_secret(self.aws.ecr_password())
        self.aws.clear_requests()
        other = self.get(env=self.env(user="ecr-public-reader"))
        self.assertEqual(other.returncode, 0)
        calls = self.ecr_calls()
        self.assertEqual([c["access_key_id"] for c in calls],
                         [self.aws.keys("ecr-public-reader")[0]])
        self.assertTrue(other.stdout == self.expected(self.host, self.aws.ecr_password()))
        self.aws.clear_requests()
        again = self.get(env=self.env(user="ecr-reader"))
        self.assertTrue(again.stdout == first.stdout, "the first user keeps its own token")
        self.assertEqual(self.aws.requests(), [])
        entries = self.read_cache()["entries"]
        self.assertEqual(len(entries), 2)
        self.assertNotEqual(entries[0]["identity"], entries[1]["identity"])

    def test_web_identity__new_session_each_time__still_a_hit(self):
        token_file = self.aws.write_token_file()
        env = self.env(user=None)
        env.update({"AWS_ROLE_ARN": self.aws.role_arn("ecr-renew-irsa"),
                    "AWS_WEB_IDENTITY_TOKEN_FILE": token_file,
                    "AWS_ROLE_SESSION_NAME": "ecr-renew"})
        self.assertEqual(self.get(env=env).returncode, 0)
        self.assertEqual([r["action"] for r in self.aws.requests()],
                         ["AssumeRoleWithWebIdentity", "GetAuthorizationToken"])
        self.aws.write_token_file(token_file)  # the kubelet rotates the token
        self.aws.clear_requests()
        proc = self.get(env=env)
        self.assertEqual(proc.returncode, 0)
        self.assertEqual(self.aws.requests(), [], "keyed on the role, not the session key")

    def test_container_and_instance_credentials__hit_by_role(self):
        for kind in ("container", "imds"):
            fake_cls = aws_harness.FakeContainerCreds if kind == "container" else aws_harness.FakeImds
            with fake_cls(self.aws) as fake:
                env = self.env(user=None)
                env.update(self.aws.env(**{kind: fake}))
                env["PATH"] = self.bin_dir + ":" + env["PATH"]
                env["AWS_ECR_CACHE_DIR"] = os.path.join(self.tmp, kind)
                self.assertEqual(self.get(env=env).returncode, 0, kind)
                fake.rotate()  # new temporary keys from now on
                self.aws.clear_requests()
                proc = self.get(env=env)
                self.assertEqual(proc.returncode, 0, kind)
                self.assertEqual(self.ecr_calls(), [], kind)
                if kind == "container":
                    self.remember_secret(fake.token)


class StaleTest(HelperTestCase):
    def age(self, fetched_ago, left):
        """Rewrites the cached entry as fetched `fetched_ago` s ago with `left` s left."""
        doc = self.read_cache()
        now = int(time.time())
        doc["entries"][0]["fetched_at"] = now - fetched_ago
        doc["entries"][0]["expires_at"] = now + left
        self.write_cache(doc)

    def aws_down(self):
        self.aws.inject_fault("GetAuthorizationToken", "500", count=1000)

    def test_past_half_life_aws_down__served_while_over_10_minutes_left(self):
        first = self.get()
        self.assertEqual(first.returncode, 0)
        self.age(fetched_ago=1000, left=800)  # a 30 min token, 13 min left
        self.aws_down()
        self.aws.clear_requests()
        proc = self.get()
        self.assertEqual(proc.returncode, 0, proc.stderr[-300:])
        self.assertTrue(proc.stdout == first.stdout)
        self.assertGreater(len(self.ecr_calls()), 0, "a refresh was tried")
        lines = proc.stderr.decode().splitlines()
        self.assertEqual(len(lines), 1, proc.stderr)
        self.assertIn("serving the cached token", lines[0])

    def test_aws_down_and_10_minutes_or_less_left_or_expired__not_found(self):
        self.assertEqual(self.get().returncode, 0)
        self.aws_down()
        for fetched_ago, left in ((1000, 500), (43200, -1)):
            self.age(fetched_ago, left)
            proc = self.get()
            self.assertEqual((proc.returncode, proc.stdout), (1, NOT_FOUND), (fetched_ago, left))
            self.assertEqual(len(proc.stderr.decode().splitlines()), 1, proc.stderr)
        self.aws.clear_faults()
        proc = self.get()
        self.assertEqual(proc.returncode, 0)
        entry = self.read_cache()["entries"][0]
        self.assertGreater(entry["expires_at"], time.time() + 40000)

    def test_really_expired_token__never_served(self):
        self.aws.configure_ecr(lifetime_seconds=3)
        self.assertEqual(self.get().returncode, 0)
        time.sleep(3.5)
        self.aws_down()
        proc = self.get()
        self.assertEqual((proc.returncode, proc.stdout), (1, NOT_FOUND))


# -- real consumers --------------------------------------------------------------

def _have_registry_tools():
    return can_use_namespaces() and all(shutil.which(t) for t in (
        "docker-registry", "htpasswd", "skopeo"))


@unittest.skipUnless(_have_registry_tools(),
                     "needs root, unshare, nsenter, docker-registry, htpasswd and skopeo "
                     "(scripts/deps installs them)")
class ConsumersTest(HelperTestCase):
    """skopeo, podman and buildah pull with credHelpers -> ecr-login."""

    def setUp(self):
        super().setUp()
        from tests.harness.registry import Registry

        self.registry = Registry(self.host, "AWS", self.aws.ecr_password(),
                                 workdir=os.path.join(self.tmp, "registry"))
        self.registry.__enter__()
        self.addCleanup(self.registry.__exit__, None, None, None)
        self.image = self.registry.push_image("team/app", "v1")
        self.forwarder = Forwarder(self.registry.ns_pid, self.aws.port)
        self.addCleanup(self.forwarder.close)
        self.authfile = os.path.join(self.tmp, "auth.json")
        with open(self.authfile, "w") as f:
            json.dump({"credHelpers": {self.host: "ecr-login"}}, f)
        self.log = os.path.join(self.tmp, "helper.log")
        self.tool_env = self.env(AWS_ENDPOINT_URL="http://127.0.0.1:%d" % self.forwarder.port,
                                 ECR_RENEW_HELPER_LOG=self.log)

    def pull(self, tool):
        storage = os.path.join(self.tmp, "storage-" + tool)
        ca = self.registry.ca_dir
        argv = {
            "skopeo": ["skopeo", "inspect", "--authfile", self.authfile, "--cert-dir", ca,
                       "docker://" + self.image],
            "podman": ["podman", "--storage-driver", "vfs", "--root", storage + "/root",
                       "--runroot", storage + "/run", "--events-backend", "none",
                       "--cgroup-manager", "cgroupfs", "pull", "--authfile", self.authfile,
                       "--cert-dir", ca, self.image],
            "buildah": ["buildah", "--storage-driver", "vfs", "--root", storage + "/root",
                        "--runroot", storage + "/run", "pull", "--policy", "always",
                        "--authfile", self.authfile,
                        "--cert-dir", ca, self.image],
        }[tool]
        return self.registry.run(argv, env=self.tool_env, timeout=180)

    def check_tool(self, tool):
        if not shutil.which(tool):
            self.skipTest("%s is not installed (apt-get install --no-install-recommends %s)"
                          % (tool, tool))
        pulled = self.pull(tool)
        self.assertEqual(pulled.returncode, 0, "%s pull failed: %s" % (tool, pulled.stderr[-500:]))
        self.assertEqual(len(self.ecr_calls()), 1, "the helper asked AWS once")
        again = self.pull(tool)
        self.assertEqual(again.returncode, 0, again.stderr[-300:])
        self.assertEqual(len(self.ecr_calls()), 1, "the second pull used the cache")

        # The token expires while AWS is down: the helper refuses it, so the
        # consumer goes without credentials and the registry refuses too.
        self.write_expired()
        self.aws.inject_fault("GetAuthorizationToken", "500", count=1000)
        refused = self.pull(tool)
        self.assertNotEqual(refused.returncode, 0, "%s pulled with an expired token" % tool)
        self.assertIn("unauthorized", refused.stderr.lower())
        with open(self.log) as f:
            self.assertIn("ServerException", f.read())
        self.assertEqual(os.stat(self.log).st_mode & 0o777, 0o600)

        self.aws.clear_faults()
        healed = self.pull(tool)
        self.assertEqual(healed.returncode, 0, healed.stderr[-300:])

    def write_expired(self):
        doc = self.read_cache()
        for entry in doc["entries"]:
            entry["fetched_at"] = int(time.time()) - 43200
            entry["expires_at"] = int(time.time()) - 1
        self.write_cache(doc)

    def test_skopeo(self):
        self.check_tool("skopeo")
        # A real pull of the image's layers with the helper's token.
        layout = os.path.join(self.tmp, "pulled")
        copied = self.registry.run(["skopeo", "copy", "--quiet", "--src-authfile",
                                    self.authfile, "--src-cert-dir", self.registry.ca_dir,
                                    "docker://" + self.image, "oci:%s:pulled" % layout],
                                   env=self.tool_env, timeout=180)
        self.assertEqual(copied.returncode, 0, copied.stderr[-300:])
        self.assertTrue(os.path.exists(os.path.join(layout, "index.json")))

    def test_podman(self):
        self.check_tool("podman")

    def test_buildah(self):
        self.check_tool("buildah")


if __name__ == "__main__":
    unittest.main()

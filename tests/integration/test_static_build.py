"""The static build (scripts/build-static -> build-static/ecr-renew).

What the container image ships is that one file plus a CA bundle on a
`scratch` base, so this checks that the file needs nothing else:

  * the ELF has no program interpreter (PT_INTERP) and no DT_NEEDED entry
    (read from the headers here, and by `readelf`), `ldd` calls it not
    dynamic, it is stripped, `--version` names c-ares as resolver, and no
    GnuTLS is inside (libmicrohttpd is built without HTTPS);
  * `ecr-renew login` run in a chroot holding ONLY the binary, a CA bundle,
    /etc/hosts and /etc/resolv.conf (no libc, no NSS modules, no /dev,
    /proc or /etc/passwd), as uid 65532 like the image's USER, reaches the
    moto-based AWS fake (tests/fakes/aws, IAM enforced) by a host name:
      - `aws.test`, defined only in the chroot's /etc/hosts;
      - `ecr-fake.dns.test`, defined nowhere but in a tiny DNS server on
        127.53.0.1:53 that the chroot's /etc/resolv.conf names;
    and prints the same password as the dynamic build (build/ecr-renew) and
    boto3 do for the same credentials (compared, never printed);
  * over HTTPS (a TLS front for the fake, certificate from a throw-away CA)
    libcurl's built-in bundle path /etc/ssl/certs/ca-certificates.crt is
    what decides trust: refused without the test CA in it, accepted with it;
  * the image's CMD, bare `sync`, in-cluster (service-account directory at
    its default path, Kubernetes API stand-in over TLS) writes the Secret.

Skipped, with the reason, when build-static/ecr-renew is absent, unless
ECR_RENEW_REQUIRE_STATIC=1, which turns that (and not being root, which
chroot and the DNS responder on port 53 need) into a failure.
ECR_RENEW_STATIC_BIN overrides the binary's path, ECR_RENEW_BIN the dynamic
one's (default build/ecr-renew; the comparison skips if it is absent).

Run from the repository root:
    python3 -m unittest tests.integration.test_static_build -v
"""

import base64
import datetime
import json
import os
import shutil
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import unittest

from tests.fakes.aws import harness as aws_harness
from tests.fakes.kube import harness as kube_harness

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STATIC_BIN = os.environ.get("ECR_RENEW_STATIC_BIN",
                            os.path.join(ROOT, "build-static", "ecr-renew"))
DYNAMIC_BIN = os.environ.get("ECR_RENEW_BIN", os.path.join(ROOT, "build", "ecr-renew"))
REQUIRE = os.environ.get("ECR_RENEW_REQUIRE_STATIC") == "1"
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
IMAGE_UID = 65532  # the Dockerfile's USER

HOSTS_NAME = "aws.test"
DNS_NAME = "ecr-fake.dns.test"
DNS_SERVER = "127.53.0.1"  # loopback; only this test's responder listens there
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
# The chroot's /etc/hosts names the AWS stand-in; its resolver is one
# nobody answers, so /etc/hosts must be enough.
CHROOT_HOSTS = "127.0.0.1\tlocalhost\n127.0.0.1\t%s\n" % HOSTS_NAME
CHROOT_RESOLV = "nameserver %s\noptions timeout:1 attempts:1\n" % DNS_SERVER
SYNC_NAMESPACE = "runtime"  # sync's default namespace


def _skip_or_fail(reason):
    if REQUIRE:
        raise AssertionError(reason + " (ECR_RENEW_REQUIRE_STATIC=1)")
    raise unittest.SkipTest(reason)


def _require_static_binary():
    if not os.access(STATIC_BIN, os.X_OK):
        _skip_or_fail("static binary not built at %s: run scripts/build-static" % STATIC_BIN)


def _tool(name):
    path = shutil.which(name)
    if not path:
        _skip_or_fail("%s not installed" % name)
    return path


def _program_header_types(path):
    """p_type of every ELF program header, read from the file itself."""
    with open(path, "rb") as fh:
        ident = fh.read(16)
        if ident[:4] != b"\x7fELF":
            raise AssertionError("%s is not an ELF file" % path)
        is64, endian = ident[4] == 2, "<" if ident[5] == 1 else ">"
        fh.seek(0x20 if is64 else 0x1C)
        (phoff,) = struct.unpack(endian + ("Q" if is64 else "I"), fh.read(8 if is64 else 4))
        fh.seek(0x36 if is64 else 0x2A)
        phentsize, phnum = struct.unpack(endian + "HH", fh.read(4))
        types = []
        for i in range(phnum):
            fh.seek(phoff + i * phentsize)
            types.append(struct.unpack(endian + "I", fh.read(4))[0])
        return types


class _DnsResponder:
    """A minimal UDP DNS server: A <name> -> 127.0.0.1, AAAA <name> -> no
    data, anything else -> NXDOMAIN. Counts queries; bounded in packets and
    stops with the test."""

    def __init__(self, address, name):
        self.name = name.lower().rstrip(".")
        self.queries = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((address, 53))
        self.sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)
        self.sock.close()

    def _serve(self):
        handled = 0
        while not self._stop.is_set() and handled < 1000:
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            handled += 1
            reply = self._answer(data)
            if reply:
                self.sock.sendto(reply, peer)

    def _answer(self, data):
        if len(data) < 12:
            return None
        qid, _flags, qdcount = struct.unpack(">HHH", data[:6])
        if qdcount != 1:
            return None
        labels, pos = [], 12
        while pos < len(data) and data[pos] != 0:
            n = data[pos]
            labels.append(data[pos + 1:pos + 1 + n].decode("ascii", "replace"))
            pos += 1 + n
        pos += 1
        if pos + 4 > len(data):
            return None
        qtype, _qclass = struct.unpack(">HH", data[pos:pos + 4])
        question = data[12:pos + 4]
        qname = ".".join(labels).lower()
        self.queries.append((qname, qtype))
        answers, rcode = b"", 0
        if qname != self.name:
            rcode = 3  # NXDOMAIN
        elif qtype == 1:  # A
            answers = struct.pack(">HHHIH4s", 0xC00C, 1, 1, 60, 4, socket.inet_aton("127.0.0.1"))
        header = struct.pack(">HHHHHH", qid, 0x8180 | rcode, 1, 1 if answers else 0, 0, 0)
        return header + question + answers


def _make_test_pki(directory, host):
    """A throw-away CA and a server certificate for ``host`` signed by it.
    Returns (ca_pem_bytes, cert_path, key_path)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ecr-renew static test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(hours=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                         critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_path, key_path = os.path.join(directory, "server.crt"), os.path.join(directory, "server.key")
    with open(cert_path, "wb") as fh:
        fh.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    return ca.public_bytes(serialization.Encoding.PEM), cert_path, key_path


class _TlsFront:
    """TLS on 127.0.0.1:<port> in front of a plain-HTTP backend on loopback:
    what a real AWS endpoint looks like to the client (bounded, stops with
    the test)."""

    def __init__(self, cert_path, key_path, backend_port):
        self.backend_port = backend_port
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        self.ctx.load_cert_chain(cert_path, key_path)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.handshakes_ok = 0
        self.handshakes_failed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)
        self.sock.close()

    def _serve(self):
        accepted = 0
        while not self._stop.is_set() and accepted < 100:
            try:
                raw, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            accepted += 1
            threading.Thread(target=self._handle, args=(raw,), daemon=True).start()

    def _handle(self, raw):
        raw.settimeout(30)
        try:
            tls = self.ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            self.handshakes_failed += 1
            raw.close()
            return
        self.handshakes_ok += 1
        try:
            backend = socket.create_connection(("127.0.0.1", self.backend_port), timeout=30)
        except OSError:
            tls.close()
            return

        def pump(src, dst):
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        back = threading.Thread(target=pump, args=(backend, tls), daemon=True)
        back.start()
        pump(tls, backend)
        back.join(30)
        tls.close()
        backend.close()


class StaticBinaryTest(unittest.TestCase):
    """The file itself."""

    @classmethod
    def setUpClass(cls):
        _require_static_binary()

    def test_elf_has_no_interpreter_and_no_dynamic_section(self):
        types = _program_header_types(STATIC_BIN)
        self.assertNotIn(3, types, "PT_INTERP present: the binary needs a dynamic loader")
        self.assertNotIn(2, types, "PT_DYNAMIC present")

    def test_readelf_shows_no_interp_and_no_needed(self):
        readelf = _tool("readelf")
        phdrs = subprocess.run([readelf, "-lW", STATIC_BIN], capture_output=True,
                               text=True, check=True).stdout
        interp = [l.strip() for l in phdrs.splitlines() if "INTERP" in l or "interpreter" in l]
        self.assertEqual(interp, [], "readelf -l shows a program interpreter")
        dyn = subprocess.run([readelf, "-dW", STATIC_BIN], capture_output=True,
                             text=True, check=True).stdout
        needed = [l.strip() for l in dyn.splitlines() if "(NEEDED)" in l]
        self.assertEqual(needed, [], "readelf -d shows DT_NEEDED entries")
        self.assertIn("There is no dynamic section", dyn)

    def test_ldd_says_not_dynamic(self):
        ldd = _tool("ldd")
        proc = subprocess.run([ldd, STATIC_BIN], capture_output=True, text=True)
        out = proc.stdout + proc.stderr
        self.assertTrue("not a dynamic executable" in out or "statically linked" in out,
                        "ldd lists libraries: %r" % out[:300])

    def test_is_stripped(self):
        sections = subprocess.run([_tool("readelf"), "-SW", STATIC_BIN], capture_output=True,
                                  text=True, check=True).stdout
        for name in (".symtab", ".debug_info"):
            self.assertFalse(name in sections, "not stripped: has %s" % name)

    def test_no_gnutls_inside(self):
        # libmicrohttpd is built without HTTPS: no GnuTLS (or its crypto)
        # may be linked in, not even as strings.
        with open(STATIC_BIN, "rb") as fh:
            data = fh.read().lower()
        for name in (b"gnutls", b"gcrypt", b"nettle", b"p11-kit"):
            self.assertFalse(name in data, "%r found in the binary" % name.decode())

    def test_version_names_curl_openssl_and_c_ares(self):
        proc = subprocess.run([STATIC_BIN, "--version"], capture_output=True, text=True,
                              timeout=30, env={"PATH": "/usr/bin:/bin"})
        self.assertEqual(proc.returncode, 0, proc.stderr)
        first, _, rest = proc.stdout.partition("\n")
        self.assertRegex(first, r"^ecr-renew \d+\.\d+\.\d+")
        for lib in ("libcurl/", "OpenSSL/", "c-ares/", "jansson/"):
            self.assertIn(lib, rest)


class StaticBinaryInChrootTest(unittest.TestCase):
    """`login` and `sync` from a chroot with nothing but the binary and four
    files (plus, for `sync`, the service-account directory a pod gets)."""

    @classmethod
    def setUpClass(cls):
        _require_static_binary()
        if os.geteuid() != 0:
            _skip_or_fail("chroot needs root (CI runs as root)")
        cls.chroot = _tool("chroot")
        cls.aws = aws_harness.FakeAws().start()
        cls.addClassCleanup(cls.aws.cleanup)  # also when the rest fails
        ecr = cls.aws.client("ecr", user="ecr-reader")
        token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
        cls.boto3_password = base64.b64decode(token).decode().split(":", 1)[1]
        cls.secrets = [cls.aws.keys("ecr-reader")[1], cls.boto3_password]

    def setUp(self):
        self.aws.clear_requests()
        self.root = tempfile.mkdtemp(prefix="ecr-renew-chroot-")
        self.addCleanup(shutil.rmtree, self.root, True)
        os.chmod(self.root, 0o755)

    # -- helpers ----------------------------------------------------------
    def make_pki(self):
        """A test CA and a certificate for HOSTS_NAME: (ca_pem, cert, key)."""
        pki = tempfile.mkdtemp(prefix="ecr-renew-pki-")
        self.addCleanup(shutil.rmtree, pki, True)
        return _make_test_pki(pki, HOSTS_NAME)

    def make_root(self, hosts, resolv, extra_ca=b""):
        """The whole file system the binary will see. ``extra_ca`` is
        appended to the copy of the system CA bundle."""
        os.makedirs(os.path.join(self.root, "etc", "ssl", "certs"), mode=0o755)
        for d in ("etc", "etc/ssl", "etc/ssl/certs"):
            os.chmod(os.path.join(self.root, d), 0o755)
        shutil.copy(STATIC_BIN, os.path.join(self.root, "ecr-renew"))
        os.chmod(os.path.join(self.root, "ecr-renew"), 0o755)
        with open(CA_BUNDLE, "rb") as src, open(os.path.join(self.root, CA_BUNDLE.lstrip("/")), "wb") as dst:
            dst.write(src.read() + extra_ca)
        for name, text in (("etc/hosts", hosts), ("etc/resolv.conf", resolv)):
            with open(os.path.join(self.root, name), "w") as fh:
                fh.write(text)
        os.chmod(os.path.join(self.root, CA_BUNDLE.lstrip("/")), 0o644)
        found = sorted(os.path.relpath(os.path.join(d, f), self.root)
                       for d, _, files in os.walk(self.root) for f in files)
        self.assertEqual(found, ["ecr-renew", "etc/hosts", "etc/resolv.conf",
                                 "etc/ssl/certs/ca-certificates.crt"])

    def make_hashed_root(self, hosts, resolv, extra_ca):
        """The image's trust store: the hashed directory scripts/build-static
        makes (build-static/certs) with the test CA hashed into it, and no
        bundle, so only the lazily read directory can verify."""
        certs = os.path.join(os.path.dirname(STATIC_BIN), "certs")
        if not os.path.isdir(certs):
            self.skipTest("no %s: run scripts/build-static" % certs)
        self.make_root(hosts, resolv)
        target = os.path.join(self.root, "etc", "ssl", "certs")
        os.remove(os.path.join(self.root, CA_BUNDLE.lstrip("/")))
        for name in os.listdir(certs):
            if name.startswith("ca-") and name.endswith(".pem"):
                shutil.copy(os.path.join(certs, name), target)
        with open(os.path.join(target, "test-ca.pem"), "wb") as fh:
            fh.write(extra_ca)
        subprocess.run(["openssl", "rehash", target], check=True, capture_output=True)

    def chroot_cmd(self):
        return [self.chroot, "--userspec=%d:%d" % (IMAGE_UID, IMAGE_UID), self.root]

    def env(self, endpoint):
        # As in the image: no HOME of the user's, PATH irrelevant (no shell).
        env = self.aws.env(user="ecr-reader", extra={"AWS_ENDPOINT_URL": endpoint, "HOME": "/"})
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost,.test"
        return env

    def run_login(self, cmd, env):
        proc = subprocess.run(cmd + ["login"], env=env, capture_output=True, text=True,
                              timeout=120)
        for secret in self.secrets:
            self.assertFalse(secret in proc.stderr, "a secret appeared on stderr")
        if proc.returncode != 0:
            self.fail("%s login exited %d; stderr:\n%s\nfake stderr:\n%s" % (
                cmd[-1] if cmd else "?", proc.returncode, proc.stderr[-2000:],
                self.aws.stderr_tail(10)))
        return proc.stdout.strip()

    def assertSamePassword(self, got, want, what):
        # Never let unittest print a password: compare, report lengths only.
        self.assertTrue(got == want, "password from %s differs (length %d vs %d)"
                        % (what, len(got), len(want)))

    def check_password(self, password):
        self.assertGreater(len(password), 1000, "login printed no ECR password")
        self.assertSamePassword(password, self.boto3_password, "boto3")
        with self.subTest("same as the dynamic build"):
            if not os.access(DYNAMIC_BIN, os.X_OK):
                self.skipTest("dynamic build not found at %s" % DYNAMIC_BIN)
            dynamic = self.run_login([DYNAMIC_BIN], self.aws.env(user="ecr-reader"))
            self.assertSamePassword(password, dynamic, DYNAMIC_BIN)

    def check_fake_saw_chroot_call(self):
        """The first ECR call since setUp is the chrooted run's, and moto
        accepted it, signed by ecr-reader, under IAM enforcement."""
        calls = [r for r in self.aws.requests() if r.get("action") == "GetAuthorizationToken"]
        self.assertTrue(calls, "the fake saw no GetAuthorizationToken")
        self.assertEqual(calls[0]["status"], 200)
        self.assertTrue(str(calls[0]["principal"]).endswith(":user/ecr-reader"),
                        calls[0]["principal"])

    # -- tests ------------------------------------------------------------
    def test_login__name_from_etc_hosts__in_bare_chroot(self):
        self.make_root(CHROOT_HOSTS, CHROOT_RESOLV)
        password = self.run_login(self.chroot_cmd() + ["/ecr-renew"],
                                  self.env("http://%s:%d" % (HOSTS_NAME, self.aws.port)))
        self.check_fake_saw_chroot_call()
        self.check_password(password)

    def test_login__https_verified_with_the_bundle_in_etc_ssl__in_bare_chroot(self):
        # ecr-renew sets no CA path for AWS: libcurl's built-in default,
        # /etc/ssl/certs/ca-certificates.crt (the file the image ships), must
        # be read and verification must be on.
        ca_pem, cert, key = self.make_pki()
        with _TlsFront(cert, key, self.aws.port) as front:
            env = self.env("https://%s:%d" % (HOSTS_NAME, front.port))
            # Without the test CA in the bundle the handshake must be refused.
            self.make_root(CHROOT_HOSTS, CHROOT_RESOLV)
            proc = subprocess.run(self.chroot_cmd() + ["/ecr-renew", "login"], env=env,
                                  capture_output=True, text=True, timeout=120)
            self.assertNotEqual(proc.returncode, 0, "login trusted an unknown CA")
            self.assertIn("certificate", proc.stderr, "login failed, but not on the certificate")
            self.assertFalse(proc.stdout.strip(), "login printed something without trust")
            self.assertEqual(front.handshakes_ok, 0)
            self.assertGreater(front.handshakes_failed, 0, "no TLS handshake was attempted")
            shutil.rmtree(self.root)
            os.makedirs(self.root, mode=0o755)
            os.chmod(self.root, 0o755)
            # With it: login works over TLS.
            self.aws.clear_requests()
            self.make_root(CHROOT_HOSTS, CHROOT_RESOLV, extra_ca=ca_pem)
            password = self.run_login(self.chroot_cmd() + ["/ecr-renew"], env)
            self.assertGreater(front.handshakes_ok, 0)
        self.check_fake_saw_chroot_call()
        self.check_password(password)

    def test_login__https_verified_with_the_hashed_directory_alone__in_bare_chroot(self):
        # The image's /etc/ssl/certs: a hashed directory, read lazily (no
        # bundle parsed at start); AWS calls use it when no AWS_CA_BUNDLE,
        # SSL_CERT_FILE or SSL_CERT_DIR is set.
        ca_pem, cert, key = self.make_pki()
        with _TlsFront(cert, key, self.aws.port) as front:
            env = self.env("https://%s:%d" % (HOSTS_NAME, front.port))
            self.make_hashed_root(CHROOT_HOSTS, CHROOT_RESOLV, ca_pem)
            password = self.run_login(self.chroot_cmd() + ["/ecr-renew"], env)
            self.assertGreater(front.handshakes_ok, 0)
        self.check_fake_saw_chroot_call()
        self.check_password(password)

    def test_sync__in_cluster_as_the_image_runs_it(self):
        # The image's CMD: bare `sync`, in-cluster configuration from the
        # default service-account directory (what the kubelet mounts), the
        # Kubernetes API over TLS with that directory's ca.crt, AWS by name.
        cfg = kube_harness.default_config()
        cfg["namespaces"].append(SYNC_NAMESPACE)
        with kube_harness.FakeKube(cfg) as kube:
            self.make_root(CHROOT_HOSTS, CHROOT_RESOLV)
            sa_dir = os.path.join(self.root, SA_DIR.lstrip("/"))
            shutil.copytree(kube.write_incluster_dir(), sa_dir)
            for d in ("var", "var/run", "var/run/secrets", "var/run/secrets/kubernetes.io",
                      SA_DIR.lstrip("/")):
                os.chmod(os.path.join(self.root, d), 0o755)
            for f in os.listdir(sa_dir):
                os.chmod(os.path.join(sa_dir, f), 0o644)
            env = self.env("http://%s:%d" % (HOSTS_NAME, self.aws.port))
            env.update(kube.incluster_env())
            env.pop("KUBECONFIG", None)
            proc = subprocess.run(self.chroot_cmd() + ["/ecr-renew", "sync"], env=env,
                                  capture_output=True, text=True, timeout=120)
            for secret in self.secrets + [kube.token_for(kube.SA)]:
                self.assertFalse(secret in proc.stderr + proc.stdout, "a secret was printed")
            self.assertEqual(proc.returncode, 0, "sync exited %d; stderr:\n%s" % (
                proc.returncode, proc.stderr[-2000:]))
            secret = kube.get_object("Secret", SYNC_NAMESPACE, "ecr-registry-secret")
        self.assertIsNotNone(secret, "sync wrote no Secret in %s" % SYNC_NAMESPACE)
        self.assertEqual(secret["type"], "kubernetes.io/dockerconfigjson")
        auths = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))["auths"]
        self.assertTrue(auths, "the Secret holds no registry")
        for entry in auths.values():
            self.assertSamePassword(entry["password"], self.boto3_password, "the Secret")
        self.check_fake_saw_chroot_call()

    def test_login__name_from_dns_via_resolv_conf__in_bare_chroot(self):
        self.make_root(hosts="127.0.0.1\tlocalhost\n",
                       resolv="nameserver %s\noptions timeout:2 attempts:2\n" % DNS_SERVER)
        with _DnsResponder(DNS_SERVER, DNS_NAME) as dns:
            password = self.run_login(self.chroot_cmd() + ["/ecr-renew"],
                                      self.env("http://%s:%d" % (DNS_NAME, self.aws.port)))
        self.assertIn((DNS_NAME, 1), dns.queries, "no A query reached the DNS server")
        self.check_fake_saw_chroot_call()
        self.check_password(password)


if __name__ == "__main__":
    unittest.main()

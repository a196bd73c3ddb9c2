"""A real container registry serving an ECR host name, for pull tests.

Not a fake: this runs Debian's docker-registry (the CNCF distribution
registry) with htpasswd Basic auth and TLS, and pulls with skopeo
(containers/image, the library CRI-O uses). To serve
<account>.dkr.ecr.<region>.amazonaws.com on port 443 without touching the
machine's /etc/hosts, both run in a private network and mount namespace
(unshare --net --mount) whose /etc/hosts maps that name to 127.0.0.1.

bcrypt reads only the first 72 bytes of a password and htpasswd refuses
more than 255, while an ECR password is ~2.4 KB: the htpasswd entry is
made from the first 72 bytes, which gives the same hash. Tests must
therefore also compare the full password themselves (see REFERENCE §7).
"""

import gzip
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
import datetime
import ipaddress


def _write(path, data, mode=0o644):
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(path, mode)


def make_ca_and_cert(directory, host):
    """Writes ca.crt, server.crt and server.key for host into directory."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ecr-renew test registry CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName(host), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .sign(ca_key, hashes.SHA256()))
    _write(os.path.join(directory, "ca.crt"), ca.public_bytes(serialization.Encoding.PEM))
    _write(os.path.join(directory, "server.crt"), cert.public_bytes(serialization.Encoding.PEM))
    _write(os.path.join(directory, "server.key"),
           key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()), 0o600)


def _blob(layout, data):
    digest = hashlib.sha256(data).hexdigest()
    _write(os.path.join(layout, "blobs", "sha256", digest), data)
    return {"digest": "sha256:" + digest, "size": len(data)}


def make_oci_image(layout, tag="v1", message=b"pulled with ecr-renew\n"):
    """Writes a one-layer OCI image layout (a file /hello.txt) to layout."""
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w") as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = len(message)
        info.mtime = 0
        tar.addfile(info, io.BytesIO(message))
    raw = tar_bytes.getvalue()
    layer = _blob(layout, gzip.compress(raw, mtime=0))
    layer["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip"
    config = _blob(layout, json.dumps({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(raw).hexdigest()]},
        "config": {}}).encode())
    config["mediaType"] = "application/vnd.oci.image.config.v1+json"
    manifest = _blob(layout, json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config, "layers": [layer]}).encode())
    manifest["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
    manifest["annotations"] = {"org.opencontainers.image.ref.name": tag}
    _write(os.path.join(layout, "index.json"),
           json.dumps({"schemaVersion": 2, "manifests": [manifest]}))
    _write(os.path.join(layout, "oci-layout"), '{"imageLayoutVersion": "1.0.0"}')
    return tag


class Registry:
    """docker-registry on https://<host>:443 inside a private namespace.

    Use as a context manager. run(args) runs a command (e.g. skopeo) inside
    the same namespaces, so it resolves host to the registry.
    """

    def __init__(self, host, username, password, workdir=None):
        self.host = host
        self.username = username
        self._password = password
        self._own_dir = workdir is None
        self.dir = workdir or tempfile.mkdtemp(prefix="ecr-renew-registry-")
        self.cert_dir = os.path.join(self.dir, "certs")
        self._holder = None
        self._registry = None
        self.log_path = os.path.join(self.dir, "registry.log")

    # -- setup ---------------------------------------------------------------
    def _configure(self):
        os.makedirs(self.cert_dir, exist_ok=True)
        make_ca_and_cert(self.cert_dir, self.host)
        # skopeo's --cert-dir wants only the CA (and optional client certs).
        self.ca_dir = os.path.join(self.dir, "ca")
        os.makedirs(self.ca_dir, exist_ok=True)
        shutil.copy(os.path.join(self.cert_dir, "ca.crt"), self.ca_dir)
        self.set_password(self._password)
        _write(os.path.join(self.dir, "hosts"),
               "127.0.0.1 localhost\n127.0.0.1 %s\n" % self.host)
        _write(os.path.join(self.dir, "config.yml"), json.dumps({
            "version": 0.1,
            "log": {"level": "warn", "accesslog": {"disabled": True}},
            "storage": {"filesystem": {"rootdirectory": os.path.join(self.dir, "data")}},
            "http": {"addr": "127.0.0.1:443",
                     "tls": {"certificate": os.path.join(self.cert_dir, "server.crt"),
                             "key": os.path.join(self.cert_dir, "server.key")}},
            "auth": {"htpasswd": {"realm": "ecr-renew-test",
                                  "path": os.path.join(self.dir, "htpasswd")}},
        }))

    def set_password(self, password):
        """(Re)writes the htpasswd entry; the registry re-reads it on change."""
        self._password = password
        hashed = subprocess.run(
            ["htpasswd", "-nbB", self.username, password.encode()[:72].decode("latin-1")],
            check=True, capture_output=True, text=True).stdout.strip()
        _write(os.path.join(self.dir, "htpasswd"), hashed + "\n", 0o600)

    def _start_holder(self):
        # A process that owns the namespaces: lo up, private /etc/hosts.
        pidfile = os.path.join(self.dir, "holder.pid")
        script = ("set -e; ip link set lo up; mount --bind %s /etc/hosts; "
                  "echo $$ > %s; exec sleep 86400" % (os.path.join(self.dir, "hosts"), pidfile))
        self._holder = subprocess.Popen(["unshare", "--net", "--mount", "--fork", "--",
                                         "bash", "-c", script], start_new_session=True)
        for _ in range(100):
            if os.path.exists(pidfile) and open(pidfile).read().strip():
                self.ns_pid = int(open(pidfile).read())
                return
            time.sleep(0.05)
        raise RuntimeError("namespace holder did not start")

    def _nsenter(self):
        return ["nsenter", "-t", str(self.ns_pid), "--net", "--mount", "--"]

    def _wait_ready(self):
        for _ in range(100):
            probe = self.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                              "--cacert", os.path.join(self.ca_dir, "ca.crt"),
                              "https://%s/v2/" % self.host])
            if probe.stdout.strip() == "401":
                return
            if self._registry.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("registry did not start; see %s" % self.log_path)

    def __enter__(self):
        self._configure()
        self._start_holder()
        with open(self.log_path, "wb") as log:
            self._registry = subprocess.Popen(
                self._nsenter() + ["docker-registry", "serve", os.path.join(self.dir, "config.yml")],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_ready()
        return self

    def __exit__(self, *exc):
        for proc in (self._registry, self._holder):
            if proc and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    # -- use -----------------------------------------------------------------
    def run(self, args, **kw):
        """Runs args inside the registry's namespaces; returns CompletedProcess."""
        return subprocess.run(self._nsenter() + list(args), capture_output=True, text=True, **kw)

    def push_image(self, repo="app", tag="v1"):
        layout = os.path.join(self.dir, "oci")
        make_oci_image(layout, tag)
        creds = os.path.join(self.dir, "push-auth.json")
        _write(creds, json.dumps({"auths": {self.host: {
            "auth": __import__("base64").b64encode(
                ("%s:%s" % (self.username, self._password)).encode()).decode()}}}), 0o600)
        out = self.run(["skopeo", "copy", "--quiet", "--dest-cert-dir", self.ca_dir,
                        "--dest-authfile", creds, "oci:%s:%s" % (layout, tag),
                        "docker://%s/%s:%s" % (self.host, repo, tag)])
        os.unlink(creds)
        if out.returncode != 0:
            raise RuntimeError("push failed: " + out.stderr[-500:])
        return "%s/%s:%s" % (self.host, repo, tag)

    def pull(self, image, authfile):
        """skopeo inspect with exactly this auth file; returns CompletedProcess."""
        return self.run(["skopeo", "inspect", "--authfile", authfile, "--cert-dir", self.ca_dir,
                         "docker://" + image])

    def copy_out(self, image, authfile, dest_dir):
        """Pulls the image's layers to an OCI layout (a real pull of blobs)."""
        return self.run(["skopeo", "copy", "--quiet", "--src-authfile", authfile,
                         "--src-cert-dir", self.ca_dir, "docker://" + image,
                         "oci:%s:pulled" % dest_dir])

"""Shared helpers of the deployment tests (tests/deploy/test_*.py).

Run from the repository root:

    python3 -m unittest discover -s tests/deploy -v

Each test needs some tool (terraform, kubectl, node/npm, the fakes) and
skips with a message naming what is missing.  Nothing is written inside the
repository except tests/deploy/node_modules (by `npm ci`, from the committed
package-lock.json): Terraform runs on a copy of deploy/terraform in a
temporary directory, with its own CLI config and data directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEPLOY = os.path.join(REPO, "deploy")
TF_ROOT = os.path.join(DEPLOY, "terraform")
KUBE_ROOT = os.path.join(DEPLOY, "kubernetes")
IRSA_OVERLAY = os.path.join(KUBE_ROOT, "overlays", "irsa")
CONTROLLER_COMPONENTS = ("controller", "service-monitor", "prometheus-rule")
# Optional components the overlay lists after those, commented out too.
OPTIONAL_COMPONENTS = ("service-accounts", "heal-pods")
# Kinds of the Prometheus operator: no schema in kubernetes-models, and not
# served by the Kubernetes API stand-in.
MONITORING_KINDS = {"ServiceMonitor", "PrometheusRule"}
# Kinds that kubernetes-models validates but the stand-in does not serve
# (no policy/v1): checked by schema and against Terraform, never applied.
NOT_SERVED_KINDS = {"PodDisruptionBudget"}
DOCS_GUIDE = os.path.join(REPO, "docs", "operators-guide.md")
ECR_RENEW = os.environ.get("ECR_RENEW_BIN", os.path.join(REPO, "build", "ecr-renew"))

# What `ecr-renew run` exposes on /metrics (the contract the alerts, the
# dashboards and docs/operators-guide.md build on): name -> (type, labels).
CONTROLLER_METRICS = {
    "ecr_renew_token_expiry_timestamp_seconds": ("gauge", ("region", "registry")),
    "ecr_renew_secret_writes_total": ("counter", ("outcome",)),
    "ecr_renew_secret_errors_total": ("counter", ("reason",)),
    "ecr_renew_aws_errors_total": ("counter", ("operation", "code")),
    "ecr_renew_namespaces": ("gauge", ("state",)),
    "ecr_renew_last_success_timestamp_seconds": ("gauge", ()),
    "ecr_renew_build_info": ("gauge", ("version",)),
}

# The Events `ecr-renew run` records: reason -> type (docs/operators-guide.md#events).
CONTROLLER_EVENTS = {
    "SecretCreated": "Normal", "SecretTakenOver": "Normal", "SecretRestored": "Normal", "PodHealed": "Normal",
    "ForeignSecret": "Warning", "SecretWriteFailed": "Warning", "TokenRenewalFailed": "Warning",
}

# Only hashicorp/aws can be installed here, from this directory (override
# with ECR_RENEW_TF_PLUGIN_DIR).
TF_PLUGIN_DIR = os.environ.get("ECR_RENEW_TF_PLUGIN_DIR", "/opt/tf-plugins")

KUBERNETES_PROVIDER_SKIP = (
    "the hashicorp/kubernetes provider cannot be installed on this machine "
    "(only hashicorp/aws is in the offline plugin directory), so roots using "
    "deploy/terraform/modules/kubernetes are not validated by terraform; "
    "test_provider_schema.py checks them against the provider's published schema "
    "and test_drift.py against the manifests instead"
)


# -- tools ----------------------------------------------------------------

def terraform() -> str | None:
    return shutil.which("terraform")


def kubectl() -> str | None:
    return os.environ.get("FAKE_KUBE_KUBECTL") or shutil.which("kubectl")


def require_terraform(test: unittest.TestCase) -> str:
    exe = terraform()
    if not exe:
        test.skipTest("terraform is not installed (needed for this test)")
    return exe


def require_aws_plugin(test: unittest.TestCase) -> None:
    if not os.path.isdir(os.path.join(TF_PLUGIN_DIR, "registry.terraform.io", "hashicorp", "aws")):
        test.skipTest(f"no hashicorp/aws provider in {TF_PLUGIN_DIR} (set ECR_RENEW_TF_PLUGIN_DIR)")


def require_kubectl(test: unittest.TestCase) -> str:
    exe = kubectl()
    if not exe:
        test.skipTest("kubectl is not installed (needed for kubectl kustomize / apply)")
    return exe


def promtool() -> str | None:
    return os.environ.get("ECR_RENEW_PROMTOOL") or shutil.which("promtool")


def require_promtool(test: unittest.TestCase) -> str:
    exe = promtool()
    if not exe:
        test.skipTest("promtool is not installed (Debian package prometheus; set ECR_RENEW_PROMTOOL)")
    return exe


def python_module_available(name: str) -> bool:
    try:
        __import__(name)
    except ImportError:
        return False
    return True


# -- terraform ----------------------------------------------------------------

class TerraformWorkspace:
    """A copy of deploy/terraform in a temporary directory plus an
    environment for running terraform offline there."""

    def __init__(self) -> None:
        self.tmp = tempfile.mkdtemp(prefix="ecr-renew-tf-")
        self.root = os.path.join(self.tmp, "terraform")
        shutil.copytree(TF_ROOT, self.root,
                        ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", ".terraform.lock.hcl"))
        self.cli_config = os.path.join(self.tmp, "terraformrc")
        with open(self.cli_config, "w", encoding="utf-8") as fh:
            fh.write(
                "provider_installation {\n"
                f"  filesystem_mirror {{\n    path    = \"{TF_PLUGIN_DIR}\"\n"
                "    include = [\"registry.terraform.io/hashicorp/aws\"]\n  }\n"
                "  direct {\n    exclude = [\"registry.terraform.io/hashicorp/aws\"]\n  }\n"
                "}\n")

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AWS_", "TF_")) and k not in ("HTTP_PROXY", "HTTPS_PROXY",
                                                                 "http_proxy", "https_proxy")}
        env.update({
            "CHECKPOINT_DISABLE": "1",
            "TF_CLI_CONFIG_FILE": self.cli_config,
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "HOME": self.tmp,
        })
        env.update(extra or {})
        return env

    def dir(self, *parts: str) -> str:
        return os.path.join(self.root, *parts)

    def run(self, workdir: str, *args: str, env: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([terraform() or "terraform", *args], cwd=workdir, env=env or self.env(),
                              capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def init(self, workdir: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return self.run(workdir, "init", "-input=false", "-no-color", f"-plugin-dir={TF_PLUGIN_DIR}", env=env)

    def cleanup(self) -> None:
        if os.environ.get("ECR_RENEW_KEEP_TF") == "1":
            sys.stderr.write(f"terraform workspace kept: {self.tmp}\n")
            return
        shutil.rmtree(self.tmp, ignore_errors=True)


def tf_output(proc: subprocess.CompletedProcess) -> str:
    return f"exit {proc.returncode}\n--- stdout\n{proc.stdout[-6000:]}\n--- stderr\n{proc.stderr[-6000:]}"


# -- node helpers ---------------------------------------------------------------

_npm_lock = threading.Lock()


def require_node_modules(test: unittest.TestCase) -> None:
    """tests/deploy/node_modules from package-lock.json (npm ci when missing;
    .npmrc keeps the unused peers of @cdktf/provider-kubernetes out)."""
    if not shutil.which("node"):
        test.skipTest("node is not installed (needed for @cdktf/hcl2json and kubernetes-models)")
    with _npm_lock:
        wanted = [os.path.join(HERE, "node_modules", "@cdktf", "hcl2json", "package.json"),
                  os.path.join(HERE, "node_modules", "@cdktf", "provider-kubernetes", "package.json"),
                  os.path.join(HERE, "node_modules", "kubernetes-models", "package.json")]
        if all(os.path.exists(p) for p in wanted):
            return
        npm = shutil.which("npm")
        if not npm:
            test.skipTest("npm is not installed and tests/deploy/node_modules is missing")
        proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE,
                              capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            test.fail(f"npm ci in tests/deploy failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n"
                      f"{proc.stderr[-3000:]}")


def hcl2json(*files: str) -> dict[str, Any]:
    """{path: parsed HCL as JSON} through @cdktf/hcl2json."""
    proc = subprocess.run(["node", os.path.join(HERE, "hcl2json.js"), *files], capture_output=True,
                          text=True, timeout=120, cwd=HERE, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise AssertionError(f"hcl2json failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def hcl_module(directory: str) -> dict[str, Any]:
    """All .tf files of a directory merged: {"variable": {name: body},
    "output": {name: body}, "module": {name: body}, "resource": {type: {name:
    body}}, "data": {type: {name: body}}, "locals": {name: expr}, others as
    lists}. Block bodies are the first (only) element hcl2json gives."""
    files = sorted(os.path.join(directory, f) for f in os.listdir(directory) if f.endswith(".tf"))
    merged: dict[str, Any] = {}
    for parsed in hcl2json(*files).values():
        for kind, value in parsed.items():
            if kind == "locals":
                for block in value:
                    merged.setdefault("locals", {}).update(block)
            elif kind in ("variable", "output", "module"):
                for name, bodies in value.items():
                    merged.setdefault(kind, {})[name] = bodies[0]
            elif kind in ("resource", "data"):
                for rtype, named in value.items():
                    for name, bodies in named.items():
                        merged.setdefault(kind, {}).setdefault(rtype, {})[name] = bodies[0]
            else:
                merged.setdefault(kind, []).append(value)
    return merged


def validate_with_kubernetes_models(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    proc = subprocess.run(["node", os.path.join(HERE, "validate_manifests.js")], input=json.dumps(objects),
                          capture_output=True, text=True, timeout=120, cwd=HERE)
    if proc.returncode != 0:
        raise AssertionError(f"validate_manifests.js failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


# -- kustomize --------------------------------------------------------------------

def kustomize(directory: str) -> list[dict[str, Any]]:
    """`kubectl kustomize DIR` as a list of objects."""
    import yaml  # PyYAML; the fake kube-apiserver needs it too

    proc = subprocess.run([kubectl() or "kubectl", "kustomize", directory], capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise AssertionError(f"kubectl kustomize {directory} failed:\n{proc.stderr[-3000:]}")
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


def kustomize_text(directory: str) -> str:
    proc = subprocess.run([kubectl() or "kubectl", "kustomize", directory], capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise AssertionError(f"kubectl kustomize {directory} failed:\n{proc.stderr[-3000:]}")
    return proc.stdout


@contextlib.contextmanager
def _irsa_overlay_edited(commented: str, enabled: str, what: str):
    tmp = tempfile.mkdtemp(prefix="ecr-renew-kustomize-")
    try:
        copy = os.path.join(tmp, "kubernetes")
        shutil.copytree(KUBE_ROOT, copy)
        path = os.path.join(copy, "overlays", "irsa", "kustomization.yaml")
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        if commented not in text:
            raise AssertionError(f"overlays/irsa/kustomization.yaml no longer has the commented-out "
                                 f"{what} these tests switch on")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text.replace(commented, enabled, 1))
        yield os.path.join(copy, "overlays", "irsa")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def irsa_overlay_with_initial_job(service_accounts: bool = False):
    """A copy of deploy/kubernetes whose irsa overlay has the initial-job
    component switched on, as the overlay's comment tells users to do; with
    `service_accounts`, components/service-accounts after it as well."""
    commented = "# components:\n#   - ../../components/initial-job\n#   - ../../components/service-accounts"
    enabled = "components:\n  - ../../components/initial-job" + (
        "\n  - ../../components/service-accounts" if service_accounts else "")
    return _irsa_overlay_edited(commented, enabled, "initial-job component")


def irsa_overlay_with_controller(monitoring: bool = True, initial_job: bool = False,
                                 service_accounts: bool = False, heal_pods: bool = False):
    """A copy of deploy/kubernetes whose irsa overlay runs the controller, as
    its comment tells users to do: the controller component and, with
    `monitoring`, the ServiceMonitor and PrometheusRule components, then
    components/service-accounts and components/heal-pods when asked for, in
    the order the overlay lists them. `initial_job` lists
    components/initial-job first as well (a combination the controller
    component must cope with)."""
    commented = "".join(f"\n#   - ../../components/{c}" for c in CONTROLLER_COMPONENTS + OPTIONAL_COMPONENTS)
    names = (["initial-job"] if initial_job else []) + list(CONTROLLER_COMPONENTS[:None if monitoring else 1])
    names += [c for c, on in zip(OPTIONAL_COMPONENTS, (service_accounts, heal_pods)) if on]
    enabled = "".join(f"\n  - ../../components/{c}" for c in names)
    return _irsa_overlay_edited("# components:" + commented, "components:" + enabled,
                                "controller components")


def find(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    hits = [o for o in objects if o.get("kind") == kind and (name is None or o["metadata"]["name"] == name)]
    if len(hits) != 1:
        raise AssertionError(f"expected one {kind} {name or ''} in the rendered manifests, found {len(hits)}")
    return hits[0]


def load_harness(which: str) -> Any:
    """tests/fakes/<which>/harness.py as module fake_<which>_harness (both
    fakes call their module harness.py, so they cannot both be imported by
    that name)."""
    import importlib.util

    name = f"fake_{which}_harness"
    if name in sys.modules:
        return sys.modules[name]
    path = os.path.join(REPO, "tests", "fakes", which, "harness.py")
    if not os.path.exists(path):
        raise unittest.SkipTest(f"{path} is missing")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# -- ecr-renew run in the background ------------------------------------------------

def container_env(container: dict[str, Any], pod_name: str, pod_namespace: str) -> dict[str, str]:
    """A manifest container's environment as the kubelet would give it:
    values as they are, the downward API's metadata.name and
    metadata.namespace resolved for the given pod."""
    env = {}
    for e in container.get("env", []):
        if "valueFrom" in e:
            path = e["valueFrom"]["fieldRef"]["fieldPath"]
            env[e["name"]] = {"metadata.name": pod_name, "metadata.namespace": pod_namespace}[path]
        else:
            env[e["name"]] = e.get("value", "")
    return env


class BackgroundRun:
    """`ecr-renew run` as a child process: its log (stderr) read as it
    comes; stop() sends SIGTERM and returns the exit status."""

    def __init__(self, args: list[str], env: dict[str, str]):
        self.lines: list[str] = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen([ECR_RENEW, *args], env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()

    @property
    def log(self) -> str:
        with self.cond:
            return "".join(self.lines)

    def wait_for_log(self, pattern: str, timeout: float = 20) -> str:
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines:
                    if rx.search(line):
                        return line
                left = end - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self.reader.is_alive()):
                    raise AssertionError(f"no log line matching {pattern!r} after {timeout} s (exit "
                                         f"{self.proc.poll()}); log:\n{''.join(self.lines)[-3000:]}")
                self.cond.wait(min(left, 0.2))

    def stop(self, timeout: float = 10) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.reader.join(5)
        self.proc.stderr.close()
        return code


def require_ecr_renew(test: unittest.TestCase, *flags: str) -> None:
    """Skips unless build/ecr-renew (or ECR_RENEW_BIN) exists and its
    `run --help` names every flag."""
    if not os.access(ECR_RENEW, os.X_OK):
        test.skipTest(f"{ECR_RENEW} is not built (or set ECR_RENEW_BIN)")
    proc = subprocess.run([ECR_RENEW, "run", "--help"], capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL)
    missing = [f for f in flags if f not in proc.stdout + proc.stderr]
    if proc.returncode != 0 or missing:
        test.skipTest(f"this ecr-renew build has no run command with {', '.join(missing) or flags}")

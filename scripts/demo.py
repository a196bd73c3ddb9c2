"""The ecr-renew demo (run through scripts/demo). See that script's header."""

import base64
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.fakes.aws import harness as aws_harness  # noqa: E402
from tests.fakes.kube import harness as kube_harness  # noqa: E402
from tests.harness.registry import Registry  # noqa: E402
from tests.integration.controller_common import RunningTool  # noqa: E402

BIN = os.path.join(ROOT, "build", "ecr-renew")
SA = kube_harness.SA_USER
NAMESPACES = ["runtime", "team-a"]


def say(text):
    print("\n\033[1m== %s\033[0m" % text, flush=True)


def show(cmd):
    print("$ " + " ".join(shlex.quote(c) for c in cmd), flush=True)


def shorten(value):
    return "%s…(%d chars)" % (value[:12], len(value))


def redact_yaml(text):
    # The data value is the base64 of the document holding the password.
    return re.sub(r"(\.dockerconfigjson: )(\S+)",
                  lambda m: "%s<%d base64 chars, shown decoded below>" % (m.group(1), len(m.group(2))),
                  text)


CONTROLLER = "ecr-renew-controller"


def kube_config():
    cfg = kube_harness.default_config()
    for user in cfg["users"]:
        if user["name"] == SA:  # the module's rights, plus creating namespaces
            user["rules"] = [
                {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "create", "update"],
                 "namespaces": "*"},
                {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["create"],
                 "namespaces": "*"}]
    # The controller's ClusterRole (deploy/kubernetes/components/controller).
    cfg["users"].append({"name": CONTROLLER, "token": "fake-token-ecr-renew-controller", "rules": [
        {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["list", "watch"], "namespaces": "*"},
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch", "update", "patch"],
         "resourceNames": ["ecr-registry-secret"], "namespaces": "*"},
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"], "namespaces": "*"},
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"], "namespaces": "*"},
        # components/service-accounts: the default ServiceAccounts.
        {"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["get", "list", "watch", "patch"],
         "resourceNames": ["default"], "namespaces": "*"}]})
    return cfg


def run_controller(aws, kube):
    """ecr-renew run: every team-* namespace, a new one served at once."""
    say("5. ecr-renew run: the controller, for every namespace matching team-*, "
        "patching their default ServiceAccounts")
    env = aws.env(user="ecr-reader")
    env["KUBECONFIG"] = kube.write_kubeconfig(user=CONTROLLER)
    cmd = ["run", "--namespace", "team-*", "--service-account", "default", "--listen", "127.0.0.1:0"]
    show(["ecr-renew"] + cmd)
    r = RunningTool(cmd, env, binary=BIN).start()
    r.wait_for_log("first pass done")
    sys.stdout.write(r.stderr)
    say("6. a namespace created after it started gets its Secret, and its default "
        "ServiceAccount the reference, at once")
    show(["kubectl", "create", "namespace", "team-new"])
    kube.kubectl("create", "namespace", "team-new")
    r.wait_for_log("namespace=team-new")
    created = [q for q in kube.requests() if q["method"] == "POST" and q["path"] == "/api/v1/namespaces"][-1]
    written = [q for q in kube.requests() if q["path"].startswith("/api/v1/namespaces/team-new/secrets")
               and q["method"] == "POST" and q["status"] == 201][0]
    print([line for line in r.stderr.splitlines() if "namespace=team-new" in line][0])
    print("namespace created -> Secret written: %.0f ms (from the API server's request log)" %
          ((written["time"] - created["time"]) * 1000))
    show(["kubectl", "get", "secret", "ecr-registry-secret", "-n", "team-new"])
    print(kube.kubectl("get", "secret", "ecr-registry-secret", "-n", "team-new").stdout.rstrip())
    r.wait_for_log("serviceaccount patched namespace=team-new")
    print([line for line in r.stderr.splitlines() if "serviceaccount patched namespace=team-new" in line][0])
    show(["kubectl", "get", "serviceaccount", "default", "-n", "team-new", "-o",
          "jsonpath={.imagePullSecrets}"])
    print(kube.kubectl("get", "serviceaccount", "default", "-n", "team-new", "-o",
                       "jsonpath={.imagePullSecrets}").stdout.rstrip())
    print("(pods created in team-new from now on get the Secret without naming it)")
    say("7. someone deletes it: put back at once")
    show(["kubectl", "delete", "secret", "ecr-registry-secret", "-n", "team-a"])
    print(kube.kubectl("delete", "secret", "ecr-registry-secret", "-n", "team-a").stdout.rstrip())
    print(r.wait_for_log("namespace=team-a.*outcome=restored").rstrip())
    show(["kubectl", "get", "secret", "ecr-registry-secret", "-n", "team-a"])
    print(kube.kubectl("get", "secret", "ecr-registry-secret", "-n", "team-a").stdout.rstrip())
    say("8. its metrics (GET /metrics), then SIGTERM")
    body = r.get("/metrics")[2]
    for line in body.splitlines():
        if line.startswith(("ecr_renew_secret_writes_total", "ecr_renew_namespaces",
                            "ecr_renew_token_expiry", "ecr_renew_serviceaccount_patches")):
            print(line)
    finished = r.stop()
    print("\n".join(finished.stderr.splitlines()[-2:]))
    print("exit status %d after %.2f s" % (finished.returncode, r.stop_seconds))
    if finished.returncode != 0:
        sys.exit("run failed")


def run_sync(aws, kube):
    env = aws.env(user="ecr-reader")
    env["KUBECONFIG"] = kube.write_kubeconfig(user=SA)
    cmd = [BIN, "sync", "--namespace", ",".join(NAMESPACES), "--create-namespace"]
    say("1. ecr-renew sync: one ECR token, one Secret per namespace (created, never deleted)")
    print("AWS: static keys of IAM user ecr-reader (allowed only ecr:GetAuthorizationToken);")
    print("Kubernetes: kubeconfig for %s" % SA)
    show(["ecr-renew"] + cmd[1:])
    proc = subprocess.run(cmd, env=env, text=True, stderr=subprocess.PIPE)
    sys.stdout.write(proc.stderr)
    if proc.returncode != 0:
        sys.exit("sync failed with exit status %d" % proc.returncode)


def show_secret(kube):
    say("2. the Secret, read back with kubectl")
    show(["kubectl", "get", "secret", "ecr-registry-secret", "-n", "runtime", "-o", "yaml"])
    out = kube.kubectl("get", "secret", "ecr-registry-secret", "-n", "runtime", "-o", "yaml")
    print(redact_yaml(out.stdout))
    out = kube.kubectl("get", "secret", "ecr-registry-secret", "-n", "runtime", "-o", "json")
    doc = json.loads(base64.b64decode(json.loads(out.stdout)["data"][".dockerconfigjson"]))
    say("3. .dockerconfigjson decoded (password and auth shortened)")
    for entry in doc["auths"].values():
        assert base64.b64decode(entry["auth"]).decode() == "AWS:" + entry["password"]
        entry["password"], entry["auth"] = shorten(entry["password"]), shorten(entry["auth"])
    print(json.dumps(doc, indent=2, ensure_ascii=False))
    return json.loads(out.stdout)


def pull(aws, secret, workdir):
    host = aws.registry_host()
    doc = base64.b64decode(secret["data"][".dockerconfigjson"])
    password = json.loads(doc)["auths"][host]["password"]
    authfile = os.path.join(workdir, "auth.json")
    with open(os.open(authfile, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
        f.write(doc)
    say("4. a real registry (docker-registry, TLS, htpasswd user AWS) as %s" % host)
    with Registry(host, "AWS", password) as registry:
        image = registry.push_image("demo/hello", "v1")
        print("pushed %s" % image)
        show(["skopeo", "inspect", "--authfile", "<the Secret's .dockerconfigjson>",
              "docker://" + image])
        result = registry.pull(image, authfile)
        if result.returncode != 0:
            sys.exit("pull failed: " + result.stderr[-400:])
        info = json.loads(result.stdout)
        print("pulled %s, digest %s" % (info["Name"], info["Digest"]))
        bogus = os.path.join(workdir, "stale.json")
        with open(os.open(bogus, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            json.dump({"auths": {host: {"auth": base64.b64encode(b"AWS:stale").decode()}}}, f)
        refused = registry.pull(image, bogus)
        print("with a stale password: %s" % ("refused (unauthorized)" if refused.returncode
                                             else "ACCEPTED?!"))


def main():
    if not os.access(BIN, os.X_OK):
        sys.exit("build/ecr-renew is missing: run scripts/demo, which builds it")
    say("starting local stand-ins: moto (IAM enforced) and a fake kube-apiserver")
    with aws_harness.FakeAws() as aws, kube_harness.FakeKube(kube_config()) as kube, \
            tempfile.TemporaryDirectory(prefix="ecr-renew-demo-") as workdir:
        print("AWS endpoint  %s (moto %s)" % (aws.endpoint, "5.2.1"))
        print("API server    %s (namespaces %s do not exist yet)" % (kube.url, ", ".join(NAMESPACES)))
        run_sync(aws, kube)
        secret = show_secret(kube)
        if os.geteuid() == 0:
            pull(aws, secret, workdir)
        else:
            print("\n(skipping the pull: the private network namespace needs root)")
        run_controller(aws, kube)
        say("done; stopping the stand-ins")


if __name__ == "__main__":
    main()

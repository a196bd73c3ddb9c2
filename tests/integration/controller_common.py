"""Running `ecr-renew run` in the background for the controller's tests
and its benchmark: its log read as it comes, its endpoint asked, and its
stop timed.
"""

import re
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request

from tests.integration.common import BIN

LISTENING = re.compile(r"listening address=(\S+)")


class Finished:
    """What a stopped run left, shaped like subprocess.CompletedProcess so
    ToolTestCase's secret checks read it like any other run."""

    def __init__(self, args, returncode, stdout, stderr):
        self.args, self.returncode, self.stdout, self.stderr = args, returncode, stdout, stderr


class RunningTool:
    """ecr-renew run as a child: start(), wait_for_log(), get(), stop()."""

    def __init__(self, args, env, binary=BIN):
        self.args = list(args)
        self.env = env
        self.binary = binary
        self.lines = []
        self.cond = threading.Condition()
        self.proc = None
        self.address = None
        self.stop_seconds = None
        self.returncode = None

    def start(self, wait_listening=True, timeout=20):
        self.proc = subprocess.Popen([self.binary] + self.args, env=self.env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.out_reader = threading.Thread(target=self._read_stdout, daemon=True)
        self.stdout = ""
        self.out_reader.start()
        if wait_listening:
            line = self.wait_for_log(LISTENING, timeout=timeout)
            self.address = LISTENING.search(line).group(1)
        return self

    def _read(self):
        for line in self.proc.stderr:
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()

    def _read_stdout(self):
        self.stdout = self.proc.stdout.read()

    @property
    def stderr(self):
        with self.cond:
            return "".join(self.lines)

    def count(self, pattern):
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        with self.cond:
            return sum(1 for line in self.lines if rx.search(line))

    def wait_for_log(self, pattern, *, count=1, timeout=20):
        """The count-th log line matching pattern; fails after timeout."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                hits = [line for line in self.lines if rx.search(line)]
                if len(hits) >= count:
                    return hits[count - 1]
                left = end - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self.reader.is_alive()):
                    raise AssertionError("no %d log lines matching %r after %.1f s (exit %s); log:\n%s" % (
                        count, rx.pattern, timeout, self.proc.poll(), "".join(self.lines)[-3000:]))
                self.cond.wait(min(left, 0.2))

    def get(self, path, timeout=5):
        """(status, content type, body) of GET path on the endpoint."""
        try:
            with urllib.request.urlopen("http://%s%s" % (self.address, path), timeout=timeout) as r:
                return r.status, r.headers.get("Content-Type"), r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type"), e.read().decode()

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Sends sig and waits; returns a Finished with its output."""
        if self.returncode is None:
            start = time.monotonic()
            if self.proc.poll() is None:
                self.proc.send_signal(sig)
            try:
                self.returncode = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.returncode = self.proc.wait()
            self.stop_seconds = time.monotonic() - start
            self.reader.join(5)
            self.out_reader.join(5)
            self.proc.stdout.close()
            self.proc.stderr.close()
        return Finished(self.args, self.returncode, self.stdout, self.stderr)


def parse_metrics(text):
    """{(name, frozenset(labels.items())): value} of a Prometheus text page."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
        if not m:
            raise AssertionError("not a metrics line: %r" % line)
        labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        out[(m.group(1), frozenset(labels.items()))] = float(m.group(4))
    return out


def metric(metrics, name, **labels):
    """The value of one series, 0 when absent."""
    return metrics.get((name, frozenset(labels.items())), 0.0)

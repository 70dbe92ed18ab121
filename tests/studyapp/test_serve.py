"""`manage.py serve` on the embedded default, as a researcher runs it: gunicorn with
DEBUG off and collected static files, a Celery worker beside it, and nothing left
running once it is told to stop. The README's demo path runs through it too."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Set in the server's environment: Django's debug pages would show it (under runserver,
# the process environment is part of every request's META).
ENV_MARKER = "env-marker-7e1b0c-must-never-be-served"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def embedded_env(var_dir: Path) -> dict[str, str]:
    """A first run: no database, broker, Django or Concordance settings in the environment."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_", "CONCORDANCE_"))
    }
    return {**env, "CONCORDANCE_VAR_DIR": str(var_dir), "CONCORDANCE_CRITIC_MODEL": ENV_MARKER}


def as_from_a_terminal() -> None:
    """Ctrl-C reaches serve as it does from a researcher's terminal: a shell that starts
    jobs in the background (CI's, `nohup`'s) ignores SIGINT in them, and serve keeps an
    ignored stop signal ignored (as it should)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Serve:
    """`manage.py serve` in its own session, its output collected line by line."""

    def __init__(self, env: dict[str, str], *args: str, port: int | None = None) -> None:
        self.env = env
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", f"127.0.0.1:{self.port}", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            preexec_fn=as_from_a_terminal,
        )
        self.lines: list[str] = []
        stdout = self.process.stdout
        assert stdout is not None
        self.reader = threading.Thread(
            target=lambda: self.lines.extend(iter(stdout.readline, "")), daemon=True
        )
        self.reader.start()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_until_up(self, deadline: float) -> None:
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=5) as response:
                    assert response.status == 200
                    return
            except OSError:
                assert self.process.poll() is None, self.output
                if time.monotonic() > deadline:
                    pytest.fail("server did not come up:\n" + self.output)
                time.sleep(0.5)

    def wait_for(self, text: str, deadline: float) -> None:
        while text not in self.output:
            if time.monotonic() > deadline:
                pytest.fail(f"no {text!r} in the output:\n" + self.output)
            time.sleep(0.5)

    def pids(self) -> dict[str, list[int]]:
        """The processes serve started: gunicorn's master and workers, the Celery worker."""
        out = self.output
        return {
            "gunicorn": [int(p) for p in re.findall(r"with gunicorn \(pid (\d+)", out)],
            "gunicorn workers": [int(p) for p in re.findall(r"Booting worker with pid: (\d+)", out)],
            "celery": [int(p) for p in re.findall(r"Celery worker started \(pid (\d+)", out)],
        }

    def stop(self, sig: int) -> int:
        """Signal serve alone; its exit status once it has stopped everything it started."""
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"serve still running 60 s after signal {sig}:\n" + self.output)

    def cleanup(self) -> None:
        if self.process.poll() is None or _group_alive(self.process.pid):
            os.killpg(self.process.pid, signal.SIGKILL)  # never leave a process behind
        self.process.wait(timeout=60)
        self.reader.join(timeout=5)


Opener = urllib.request.OpenerDirector


def request(
    opener: Opener, url: str, data: bytes | None = None, headers: dict | None = None
) -> tuple[int, dict[str, str], bytes]:
    try:
        with opener.open(urllib.request.Request(url, data=data, headers=headers or {}), timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def log_in(opener: Opener, jar: http.cookiejar.CookieJar, base: str, user: str, pw: str) -> None:
    _, _, page = request(opener, f"{base}/accounts/login/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": user, "password": pw}).encode()
    status, _, _ = request(opener, f"{base}/accounts/login/", form)
    assert status == 200  # followed the redirect home
    assert any(c.name == "sessionid" for c in jar), "login failed"


def api_post(opener: Opener, jar: http.cookiejar.CookieJar, url: str, body: dict) -> dict:
    csrf = next(c.value for c in jar if c.name == "csrftoken")
    headers = {"Content-Type": "application/json", "X-CSRFToken": csrf}
    status, _, raw = request(opener, url, json.dumps(body).encode(), headers)
    assert status == 200, raw
    return json.loads(raw)


def assert_item_page_assets_served(server: Serve, username: str, password: str, slug: str) -> None:
    """An annotator's item page: its script and KaTeX's script, styles and fonts come back 200,
    by the hashed names collectstatic gave them."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    log_in(opener, jar, server.url, username, password)
    join = {"consent": True, "instructions_read": True}
    api_post(opener, jar, f"{server.url}/api/studies/{slug}/join/", join)
    claimed = api_post(opener, jar, f"{server.url}/api/studies/{slug}/next/", {})
    status, _, page = request(opener, f"{server.url}/assignments/{claimed['assignment']['id']}/")
    assert status == 200
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.decode())
    hashed = r"\.[0-9a-f]{12}\."
    expected = {
        rf"/static/studyapp/annotate{hashed}js": "javascript",
        rf"/static/vendor/katex/katex\.min{hashed}js": "javascript",
        rf"/static/vendor/katex/katex\.min{hashed}css": "css",
    }
    for pattern, kind in expected.items():
        [url] = [a for a in assets if re.fullmatch(pattern, a)]
        status, headers, body = request(opener, f"{server.url}{url}")
        assert status == 200 and kind in headers["Content-Type"] and body, url
        if kind == "css":
            woff2 = re.search(rb'url\("?(fonts/KaTeX_Main-Regular\.[0-9a-f]{12}\.woff2)"?\)', body)
            assert woff2, "KaTeX's CSS names no hashed font"
            font = woff2.group(1).decode()
            status, _, font_body = request(opener, urllib.parse.urljoin(f"{server.url}{url}", font))
            assert status == 200 and font_body[:4] == b"wOF2"


def test_demo_sets_up_and_serves_with_a_worker(tmp_path: Path) -> None:
    env = embedded_env(tmp_path)
    setup = subprocess.run(
        [sys.executable, "manage.py", "demo", "--no-serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert setup.returncode == 0, setup.stderr
    assert "annotator1" in setup.stdout and "researcher" in setup.stdout
    assert "Demo study 'demo-pairs' ready: 4 pairs" in setup.stdout
    assert (tmp_path / "concordance.sqlite3").is_file()
    # The demo's SPRM judge is trained on the demo's own outcome labels, offline.
    assert (tmp_path / "models" / "demo-sprm" / "card.json").is_file()
    password = re.search(r"annotator\s+annotator1\s+(\S+)", setup.stdout).group(1)

    server = Serve(env)
    try:
        deadline = time.monotonic() + 120
        server.wait_until_up(deadline)
        with urllib.request.urlopen(f"{server.url}/", timeout=5) as response:
            body = response.read().decode()
            assert response.headers["Server"].startswith("gunicorn")  # not the development server
        assert "Demo: can AI judges replace human annotators?" in body
        assert f"Serving on {server.url}/ with gunicorn" in server.output
        assert_item_page_assets_served(server, "annotator1", password, "demo")
        # The worker runs beside the server, on the filesystem broker under the var dir.
        server.wait_for("ready.", deadline)
        assert "transport:   filesystem" in server.output
        assert (tmp_path / "broker").is_dir()
        pids = server.pids()
        assert all(pids.values()), pids
        # SIGTERM to the serve command alone: it stops gunicorn and the worker before it exits.
        assert server.stop(signal.SIGTERM) == 0
        for name, group in pids.items():
            assert not any(_alive(pid) for pid in group), f"{name} outlived the serve command"
    finally:
        server.cleanup()


@pytest.fixture(scope="module")
def bare_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    """`manage.py serve` with nothing configured, its worker included (one gunicorn
    process: the demo test runs the default two)."""
    var_dir = tmp_path_factory.mktemp("serve")
    server = Serve(embedded_env(var_dir), "--web-workers=1")
    try:
        server.wait_until_up(time.monotonic() + 120)
        yield server
    finally:
        server.cleanup()


def anonymous(url: str, data: bytes | None = None) -> tuple[int, str]:
    status, _, body = request(urllib.request.build_opener(), url, data)
    return status, body.decode()


def assert_nothing_leaks(body: str, server: Serve) -> None:
    assert ENV_MARKER not in body
    for leak in ("Traceback", "URLconf", "urlpatterns", "SECRET_KEY", "DATABASES", "admin/", "settings"):
        assert leak not in body, leak
    assert server.env["CONCORDANCE_VAR_DIR"] not in body


def test_the_anonymous_404_lists_no_urls(bare_server: Serve) -> None:
    status, body = anonymous(f"{bare_server.url}/no/such/page/")
    assert status == 404 and "Not found (404)" in body
    assert_nothing_leaks(body, bare_server)


def test_1200_fields_to_the_login_page_get_a_plain_400(bare_server: Serve) -> None:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    request(opener, f"{bare_server.url}/accounts/login/")  # the CSRF cookie, so the form is read
    fields = urllib.parse.urlencode({f"field{i}": "x" for i in range(1200)}).encode()
    status, _, raw = request(opener, f"{bare_server.url}/accounts/login/", fields)
    body = raw.decode()
    assert status == 400 and "Bad request (400)" in body
    assert "TooManyFieldsSent" not in body
    assert_nothing_leaks(body, bare_server)


def test_sigint_stops_the_web_server_and_the_worker(bare_server: Serve) -> None:
    bare_server.wait_for("ready.", time.monotonic() + 120)
    pids = bare_server.pids()
    assert all(pids.values()), pids
    assert bare_server.stop(signal.SIGINT) == 0
    for name, group in pids.items():
        assert not any(_alive(pid) for pid in group), f"{name} outlived the serve command"


def test_a_web_server_that_cannot_start_stops_the_worker_and_fails(tmp_path: Path) -> None:
    with socket.socket() as taken:  # the port is in use: gunicorn gives up binding it
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = Serve(embedded_env(tmp_path), port=taken.getsockname()[1])
        try:
            status = server.process.wait(timeout=180)
            server.reader.join(timeout=5)
            assert status != 0
            assert "CommandError: gunicorn exited with status" in server.output
            pids = server.pids()
            assert pids["celery"], server.output
            assert not any(_alive(pid) for pid in pids["celery"]), "the worker outlived the serve command"
        finally:
            server.cleanup()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True

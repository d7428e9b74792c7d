"""sqlmap against every form and parameter of the log-in, sign-up, search, rating,
recommendation and Spotify routes, and a verdict read from its output.

The Spotify routes that take input are the OAuth callback (``state``, ``code``, ``error``) and
an artist's top songs (its id). The others (connect, disconnect, import, playlist) take none but
the session, whose cookie is a target of its own.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

LEVEL = 3
RISK = 3
TIME_SEC = 1  # time-based payloads sleep this long: enough on 127.0.0.1, and it bounds the run
REQUEST_TIMEOUT = 15
WALL_CLOCK = 240  # a hard bound per target (seconds), enforced by killing sqlmap: a failure
DBMS = {"sqlite": "SQLite", "postgres": "PostgreSQL"}

# e.g. "[WARNING] POST parameter 'JSON username' does not seem to be injectable"
_NOT_INJECTABLE = re.compile(r"parameter '(?:JSON )?([^']+)' does not seem to be injectable")
_INJECTABLE = (
    "identified the following injection point",
    "is vulnerable. Do you want to keep testing",
)
_ALL_CLEAN = "all tested parameters do not appear to be injectable"


@dataclass(frozen=True)
class SqlmapTarget:
    """One request for sqlmap to tamper with; ``params`` are those it must test."""

    name: str
    path: str  # may carry sqlmap's custom injection marker '*'
    params: tuple[str, ...]
    method: str = "GET"
    data: str | None = None
    csrf_page: str | None = None  # an HTML form: fetch a fresh CSRF token from this page
    bearer: bool = False
    cookie_token: bool = False


def targets(artist_id: int, username: str, headers: bool = True) -> list[SqlmapTarget]:
    """The routes to attack, with plausible values in every parameter; the slowest first (each
    log-in attempt costs an argon2 hash), so that a pool running them finishes soonest."""
    rating_path = f"/api/v1/me/ratings/{artist_id}"
    found = [
        SqlmapTarget(
            "API log-in",
            "/api/v1/auth/token",
            ("username", "password"),
            "POST",
            f'{{"username": "{username}", "password": "wrong passphrase"}}',
        ),
        SqlmapTarget(
            "login form",
            "/login",
            ("login", "password", "next"),
            "POST",
            f"login={username}&password=wrong+passphrase&next=%2Frate&csrf_token=x",
            csrf_page="/login",
        ),
        SqlmapTarget(
            "signup form",
            "/signup",
            ("username", "email", "password", "confirmation"),
            "POST",
            "username=newcomer&email=newcomer%40example.org&password=another+long+phrase"
            "&confirmation=another+long+phrase&csrf_token=x",
            csrf_page="/signup",
        ),
        SqlmapTarget(
            "API sign-up",
            "/api/v1/auth/signup",
            ("username", "email", "password"),
            "POST",
            '{"username": "apinewcomer", "email": "apinewcomer@example.org", '
            '"password": "another long phrase"}',
        ),
        SqlmapTarget("search", "/api/v1/artists?q=the+beat&limit=5", ("q", "limit")),
        # The marker '*' puts the artist id in play; sqlmap then tests the body too.
        SqlmapTarget(
            "rating",
            rating_path + "*",
            ("#1*", "rating"),
            "PUT",
            '{"rating": 7}',
            bearer=True,
        ),
        SqlmapTarget(
            "recommendations", "/api/v1/me/recommendations?n=3", ("n",), "POST", bearer=True
        ),
        SqlmapTarget(
            "similar artists",
            f"/api/v1/artists/{artist_id}/similar?n=5",
            ("n",),
        ),
        # The pages' own parameters: the ratings list's order, the recommendations' page.
        SqlmapTarget("ratings page", "/ratings?sort=date", ("sort",), cookie_token=True),
        SqlmapTarget(
            "recommendations page", "/recommendations?page=1", ("page",), cookie_token=True
        ),
    ]
    found += [
        # Without an authorisation under way (its state waits in the session cookie) the
        # callback refuses before any query; the parameters are attacked all the same.
        SqlmapTarget(
            "Spotify callback",
            "/spotify/callback?state=f00dfeed&code=anything&error=access_denied",
            ("state", "code", "error"),
            cookie_token=True,
        ),
        SqlmapTarget(
            "top songs (Last.fm stand-in)",
            f"/api/v1/artists/{artist_id}*/top-songs",
            ("#1*",),
            bearer=True,
        ),
    ]
    if headers:
        found.append(
            SqlmapTarget(
                "headers and auth cookie (ratings page)",
                "/ratings",
                ("User-Agent", "Referer", "musicrec_token"),
                cookie_token=True,
            )
        )
    return found


def sqlmap_binary() -> str | None:
    return shutil.which("sqlmap")


def command(
    target: SqlmapTarget, base_url: str, backend: str, token: str, output_dir: Path
) -> list[str]:
    """The sqlmap command line for one target (never interactive: --batch)."""
    args = [
        "sqlmap",
        "-u",
        base_url + target.path,
        f"--level={LEVEL}",
        f"--risk={RISK}",
        "--batch",
        f"--dbms={DBMS[backend]}",
        f"--time-sec={TIME_SEC}",
        f"--timeout={REQUEST_TIMEOUT}",
        "--retries=1",
        "--ignore-code=401",  # a failed log-in answers 401: a normal answer here, not an error
        "--flush-session",
        "--disable-coloring",
        f"--output-dir={output_dir}",
    ]
    inferred = "POST" if target.data is not None else "GET"
    if target.method != inferred:
        # Only when sqlmap cannot infer it: with --method, sqlmap fails to read CSRF tokens.
        args.append(f"--method={target.method}")
    if "*" in target.path:
        # With a custom marker sqlmap tests every place it can; headers have their own target.
        args.append("--skip=User-Agent,Referer,Host,Cookie")
    else:
        args.append("-p")
        args.append(",".join(target.params))
    if target.data is not None:
        args.append(f"--data={target.data}")
    if target.csrf_page:
        args += [
            "--csrf-token=csrf_token",
            f"--csrf-url={base_url}{target.csrf_page}",
            "--csrf-method=GET",  # by default sqlmap would POST to the form page for its token
        ]
    if target.bearer:
        args += ["-H", f"Authorization: Bearer {token}"]
    if target.cookie_token:
        args += [f"--cookie=musicrec_token={token}"]
    return args


@dataclass(frozen=True)
class Verdict:
    clean: bool
    summary: str


def verdict(output: str, target: SqlmapTarget, timed_out: bool) -> Verdict:
    """Clean only when sqlmap finished, named every parameter as not injectable, and found none."""
    if any(marker in output for marker in _INJECTABLE):
        points = output.split("identified the following injection point", 1)[-1][:600]
        return Verdict(False, f"INJECTABLE: {points.strip()}")
    if timed_out:
        return Verdict(False, f"incomplete: killed after {WALL_CLOCK}s")
    tested = {match.group(1) for match in _NOT_INJECTABLE.finditer(output)}
    untested = set(target.params) - tested
    if _ALL_CLEAN not in output or untested:
        tail = " ".join(output.strip().splitlines()[-3:])[:300]
        return Verdict(False, f"incomplete: untested {sorted(untested)}; {tail}")
    requests_sent = _requests_count(output)
    return Verdict(True, f"nothing injectable in {', '.join(sorted(tested))}{requests_sent}")


def _requests_count(output: str) -> str:
    found = re.search(r"(\d+) HTTP\(s\) requests", output)
    return f" ({found.group(1)} requests)" if found else ""


def run(target: SqlmapTarget, base_url: str, backend: str, token: str, output_dir: Path) -> Verdict:
    """Run sqlmap on one target within ``WALL_CLOCK`` seconds and judge its output."""
    log = output_dir / "console.log"
    output_dir.mkdir(parents=True, exist_ok=True)
    args = command(target, base_url, backend, token, output_dir)
    try:
        done = subprocess.run(
            args, capture_output=True, text=True, timeout=WALL_CLOCK, stdin=subprocess.DEVNULL
        )
        output, timed_out = done.stdout + done.stderr, False
    except subprocess.TimeoutExpired as expired:
        output = _text(expired.stdout) + _text(expired.stderr)
        timed_out = True
    log.write_text(output, encoding="utf-8")
    return verdict(output, target, timed_out)


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else value.decode("utf-8", "replace")

"""Stand-ins for Spotify and Last.fm, and the Prism mock of the Spotify Web API.

- ``prism_url``: Stoplight Prism (installed by ``make test`` from package.json and its lockfile)
  serving the shared Spotify contract on a free loopback port, as ``<mock>/v1/``: a request that
  breaks Spotify's contract is answered 422 and fails the test.
- ``accounts_standin``: the accounts service (``/authorize``, ``/api/token``), which the contract
  does not describe, written here from Spotify's documented behaviour.
- ``lastfm_standin``: ``artist.getTopTracks`` answering three songs for any artist.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from musicrec.config import SpotifySettings
from tests.conftest import REPO_ROOT, _unavailable

SPOTIFY_CONTRACT = Path(
    os.environ.get("MUSICREC_SPOTIFY_CONTRACT")
    or REPO_ROOT.parent / "shared" / "spotify" / "spotify-v1-prism.json"
)
PRISM = REPO_ROOT / "node_modules" / "@stoplight" / "prism-cli" / "dist" / "index.js"
PRISM_START_TIMEOUT = 60.0
CLIENT_ID, CLIENT_SECRET = "test-client-id", "test-client-secret"


def spotify_on(accounts_url: str, api_url: str) -> SpotifySettings:
    """Spotify settings that point at the local stand-ins, with a fresh token key."""
    from cryptography.fernet import Fernet

    return SpotifySettings(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uri="http://127.0.0.1:5000/spotify/callback",
        accounts_url=accounts_url,
        api_url=api_url,
        token_key=Fernet.generate_key().decode(),
    )


def spotify_on_fake_api() -> SpotifySettings:
    """Spotify settings for tests whose Web API is a ``FakeSession`` (no stand-in server): a
    host that never resolves, a fresh token key."""
    from cryptography.fernet import Fernet

    return SpotifySettings(
        client_id="id",
        client_secret="secret",
        api_url="https://api.spotify.test/v1/",
        token_key=Fernet.generate_key().decode(),
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def prism_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The Spotify Web API contract served by Prism: ``http://127.0.0.1:PORT/v1/``."""
    node = shutil.which("node")
    if node is None or not PRISM.exists():
        _unavailable("Prism is not installed: run `make test-deps` (npm ci)")
    if not SPOTIFY_CONTRACT.exists():
        _unavailable(f"the Spotify contract is not at {SPOTIFY_CONTRACT}")
    port = free_port()
    log = tmp_path_factory.mktemp("prism") / "prism.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(node), str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), "--errors"]
            + ["-v", "warn", str(SPOTIFY_CONTRACT)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}/v1/"
    try:
        deadline = time.monotonic() + PRISM_START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"Prism exited with {process.returncode}: {log.read_text()[-2000:]}")
            try:
                urllib.request.urlopen(base + "me", timeout=2)
            except urllib.error.HTTPError as error:
                if error.code == 401:  # up: a call without a token is refused
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"Prism did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


STOP_POLL_S = 0.02


class _Served:
    """A WSGI app on a free loopback port, in a thread."""

    def __init__(self, app: object) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)  # type: ignore[arg-type]
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        # shutdown() waits for serve_forever's next poll: 0.5 s by default, paid by every test
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": STOP_POLL_S}, daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


def _json(body: dict[str, object], status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


@dataclass
class AccountsStandIn:
    """Spotify's accounts service as its documentation describes it."""

    decline: bool = False  # the user presses "Cancel" on the consent page
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    refresh_tokens: set[str] = field(default_factory=set)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    expires_in: int = 3600
    url: str = ""

    def __call__(self, environ: dict[str, object], start_response: object) -> object:
        request = Request(environ)
        if request.path == "/authorize":
            response = self.authorize(request)
        elif request.path == "/api/token" and request.method == "POST":
            response = self.token(request)
        else:
            response = Response("not found", status=404)
        return response(environ, start_response)  # type: ignore[arg-type]

    def authorize(self, request: Request) -> Response:
        args = request.args
        if args.get("client_id") != CLIENT_ID or args.get("response_type") != "code":
            return Response("INVALID_CLIENT", status=400)
        target = args["redirect_uri"]
        if self.decline:
            query = {"error": "access_denied", "state": args.get("state", "")}
        else:
            code = secrets.token_urlsafe(16)
            self.codes[code] = {
                "redirect_uri": target,
                "challenge": args.get("code_challenge", ""),
                "method": args.get("code_challenge_method", ""),
                "scope": args.get("scope", ""),
            }
            query = {"code": code, "state": args.get("state", "")}
        return Response(status=302, headers={"Location": f"{target}?{urlencode(query)}"})

    def _client_ok(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            pair = base64.b64decode(header[6:]).decode()
            return pair == f"{CLIENT_ID}:{CLIENT_SECRET}"
        form = request.form
        return form.get("client_id") == CLIENT_ID and form.get("client_secret") == CLIENT_SECRET

    def _issue(self, scope: str, with_refresh: bool = True) -> Response:
        body: dict[str, object] = {
            "access_token": "access-" + secrets.token_urlsafe(12),
            "token_type": "Bearer",
            "scope": scope,
            "expires_in": self.expires_in,
        }
        if with_refresh:
            refresh = "refresh-" + secrets.token_urlsafe(12)
            self.refresh_tokens.add(refresh)
            body["refresh_token"] = refresh
        return _json(body)

    def token(self, request: Request) -> Response:
        form = request.form
        self.token_requests.append(dict(form))
        if not self._client_ok(request):
            return _json({"error": "invalid_client"}, 400)
        if form.get("grant_type") == "authorization_code":
            grant = self.codes.pop(form.get("code", ""), None)
            if grant is None:
                return _json(
                    {"error": "invalid_grant", "error_description": "Invalid authorization code"},
                    400,
                )
            if grant["redirect_uri"] != form.get("redirect_uri"):
                return _json(
                    {"error": "invalid_grant", "error_description": "Invalid redirect URI"}, 400
                )
            if grant["challenge"]:
                verifier = form.get("code_verifier", "").encode()
                digest = hashlib.sha256(verifier).digest()
                expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
                if expected != grant["challenge"]:
                    return _json(
                        {
                            "error": "invalid_grant",
                            "error_description": "code_verifier was incorrect",
                        },
                        400,
                    )
            return self._issue(grant["scope"])
        if form.get("grant_type") == "refresh_token":
            if form.get("refresh_token") not in self.refresh_tokens:
                return _json(
                    {"error": "invalid_grant", "error_description": "Invalid refresh token"}, 400
                )
            return self._issue("", with_refresh=False)  # Spotify may keep the refresh token
        return _json({"error": "unsupported_grant_type"}, 400)


@pytest.fixture
def accounts_standin() -> Iterator[AccountsStandIn]:
    standin = AccountsStandIn()
    served = _Served(standin)
    standin.url = served.url
    yield standin
    served.stop()


@dataclass
class LastfmStandIn:
    """``artist.getTopTracks``: three songs named after the artist; error 6 for 'Nobody'."""

    requests: list[dict[str, str]] = field(default_factory=list)
    url: str = ""

    def __call__(self, environ: dict[str, object], start_response: object) -> object:
        request = Request(environ)
        args = dict(request.args)
        self.requests.append(args)
        if args.get("method") != "artist.gettoptracks" or not args.get("api_key"):
            response = _json({"error": 10, "message": "Invalid API key"}, 403)
        elif args.get("artist") == "Nobody":
            response = _json({"error": 6, "message": "The artist you supplied could not be found"})
        else:
            artist = args["artist"]
            tracks = [
                {"name": f"{artist} song {n}", "url": f"https://www.last.fm/music/x/_/{n}"}
                for n in range(1, int(args.get("limit", 5)) + 1)
            ]
            response = _json({"toptracks": {"track": tracks, "@attr": {"artist": artist}}})
        return response(environ, start_response)  # type: ignore[arg-type]


@pytest.fixture
def lastfm_standin() -> Iterator[LastfmStandIn]:
    standin = LastfmStandIn()
    served = _Served(standin)
    standin.url = served.url + "2.0/"
    yield standin
    served.stop()

"""Issue 21's server and packaging fixes: gunicorn's control socket stays in the instance folder
(never a ``~/.gunicorn/`` every server of the account shares), and the package metadata names
its licence as an SPDX expression (no deprecation warning from setuptools)."""

from __future__ import annotations

import time
import tomllib
from pathlib import Path

import pytest

from musicrec.web.server import MAX_SOCKET_PATH, control_socket_options, server_options
from tests.conftest import REPO_ROOT
from tests.live_server import instance_env, prepare_instance, serving


def test_the_control_socket_is_the_instances_own(tmp_path: Path) -> None:
    options = control_socket_options({"MUSICREC_INSTANCE_DIR": str(tmp_path)})

    assert options == {"control_socket": str(tmp_path.resolve() / "gunicorn.ctl")}
    assert "control_socket" in server_options("127.0.0.1", 5000) or "control_socket_disable" in (
        server_options("127.0.0.1", 5000)
    )


def test_a_path_too_long_for_a_unix_socket_turns_the_socket_off(tmp_path: Path) -> None:
    deep = tmp_path / ("x" * MAX_SOCKET_PATH)

    assert control_socket_options({"MUSICREC_INSTANCE_DIR": str(deep)}) == {
        "control_socket_disable": True
    }


@pytest.mark.slow
def test_a_served_instance_leaves_the_home_folder_alone(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    instance = tmp_path / "i"
    env = instance_env(instance, f"sqlite:///{tmp_path / 'musicrec.sqlite3'}", HOME=str(home))
    env.pop("XDG_RUNTIME_DIR", None)
    prepare_instance(env, None, train=False)

    with serving(env, workers=1):
        socket = instance / "gunicorn.ctl"
        deadline = time.monotonic() + 10  # the arbiter opens it beside its workers
        while not socket.is_socket() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert socket.is_socket()

    assert not (home / ".gunicorn").exists()


def test_the_licence_is_an_spdx_expression_with_its_file() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())

    assert project["project"]["license"] == "MIT"
    for pattern in project["project"]["license-files"]:
        assert list(REPO_ROOT.glob(pattern)), pattern
    backend = [r for r in project["build-system"]["requires"] if r.startswith("setuptools")]
    assert backend == ["setuptools>=77"]  # the first setuptools reading PEP 639's fields

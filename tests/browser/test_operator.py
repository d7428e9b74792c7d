"""The operator's page in a real browser: an admin sees the serving model and its plots, queues
a retraining with the button and watches the job run to the end without reloading, while a
worker process (`musicrec worker`) does the training. No console errors, no CSP violation.
A screenshot is kept in test-artifacts/operator-page.png."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import DESKTOP, MOBILE, _musicrec_command, new_page, running_musicrec
from tests.browser.test_journey import expect, sign_up_through_form, unique_username

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def worker(live_instance: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """``musicrec worker`` on the live server's instance, stopped after the test."""
    with running_musicrec(
        live_instance, "worker.log", "worker", "--poll-seconds", "0.2"
    ) as process:
        yield process


def test_operator_page_plots_and_a_retraining_followed_live(
    browser: Any,
    live_server: str,
    live_instance: dict[str, str],
    worker: subprocess.Popen[bytes],
    artifacts_dir: Path,
) -> None:
    context, page, watch = new_page(browser, live_server, DESKTOP)
    try:
        username = unique_username("operator")
        sign_up_through_form(page, username)
        watch.allow("status of 403")  # the page refused before the promotion
        page.goto("/admin")
        expect(page.locator("h1")).to_have_text("That did not work")
        promoted = subprocess.run(
            _musicrec_command("create-admin", username),
            env=live_instance,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert promoted.returncode == 0, promoted.stderr

        page.goto("/admin")
        expect(page.get_by_role("heading", name="Operator's page")).to_be_visible()
        expect(page.locator("#serving-model")).to_contain_text("implicit (CPU)")
        charts = page.locator("svg.chart")
        expect(charts).to_have_count(5)
        assert page.locator("svg.chart polyline.series").count() == 1  # the loss by iteration
        assert page.locator("svg.chart rect.bar").count() >= 10  # ratings 1..10, coverage

        before = page.locator("#serving-model code").inner_text()
        page.get_by_role("button", name="Retrain now").click()
        job = page.locator("#jobs li.job").first
        expect(page.locator("#queue-status")).to_contain_text("queued")
        state = job.locator("[data-job-state-text]")
        expect(state).to_have_text(re.compile("running|done"), timeout=30_000)
        expect(state).to_have_text("done", timeout=120_000)
        assert job.locator("progress").evaluate("bar => bar.value") == 1

        # Without a reload (issue 21): the new version serves, the list holds both, the status
        # line says how the job ended.
        expect(page.locator("#versions tbody tr")).to_have_count(2, timeout=40_000)
        expect(page.locator("#serving-model code")).not_to_have_text(before, timeout=40_000)
        expect(page.locator("#versions tr.serving code")).to_have_text(
            page.locator("#serving-model code").inner_text()
        )
        expect(page.locator("#queue-status")).to_contain_text("done; serving")
        page.screenshot(path=str(artifacts_dir / "operator-page.png"), full_page=True)
        page.set_viewport_size(MOBILE)
        page.screenshot(path=str(artifacts_dir / "operator-page-375px.png"), full_page=True)
        watch.check()
    finally:
        context.close()

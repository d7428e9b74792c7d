"""The operator's page: the model serving and its history, jobs, and plots of the app's activity.

Admins only (``musicrec create-admin USERNAME``). Queueing a training or a tuning run goes
through the admin API from app.js, which also follows the jobs' progress.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from markupsafe import Markup

from musicrec.services import jobs, operations
from musicrec.services.operations import Activity, VersionView
from musicrec.web.admin import charts
from musicrec.web.auth.guard import admin_required, settings
from musicrec.web.db import db_session
from musicrec.web.extensions import recommendations

blueprint = Blueprint("admin", __name__, url_prefix="/admin")
HISTORY = 20  # model versions listed


def _plots(serving: VersionView | None, activity: Activity) -> dict[str, Markup]:
    loss_name = "Training RMSE" if serving and serving.kind == "explicit-als" else "Training loss"
    per_day = [(day.strftime("%d %b"), n) for day, n in activity.ratings_per_day]
    served = [(day.strftime("%d %b"), n) for day, n in activity.recommendations_per_day]
    return {
        "loss": charts.line_chart(
            serving.loss if serving else [],
            title=f"{loss_name} by iteration",
            x_label="iteration",
            empty="The serving model recorded no loss",
        ),
        "ratings": charts.bar_chart(
            [(str(value), count) for value, count in activity.rating_histogram],
            title="Ratings by value (1 to 10)",
        ),
        "new_ratings": charts.bar_chart(per_day, title="New ratings per day", every=7),
        "served": charts.bar_chart(served, title="Recommendations served per day", every=7),
        "coverage": charts.share_bar(
            activity.coverage,
            title="Catalogue coverage of recommendations",
            caption=(
                f"{activity.recommended_artists:,} of {activity.catalogue_artists:,} artists "
                f"recommended at least once ({activity.coverage:.1%})"
            ),
        ),
    }


@blueprint.get("")
@admin_required
def index() -> str:
    session = db_session()
    serving_name = recommendations().current_version()
    versions = operations.model_versions(settings().model_dir, serving_name)
    serving = next((version for version in versions if version.serving), None)
    activity = operations.recent_activity(session)
    return render_template(
        "admin/index.html",
        serving=serving,
        versions=versions[:HISTORY],
        jobs=jobs.recent_jobs(session),
        activity=activity,
        plots=_plots(serving, activity),
    )

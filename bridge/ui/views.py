"""The dashboard's pages and forms.

    GET  /ui/login                       the sign-in form (client id and secret)
    POST /ui/login                       sign in: a private client holding sync:admin
    POST /ui/logout                      sign out
    GET  /ui/?window=1h|24h[&refresh=30] upstreams, readiness, jobs and their outbox depth,
                                         recent runs, dead letters
    GET  /ui/deliveries/{id}             one delivery (no payload: it carries personal data)
    POST /ui/deliveries/{id}/replay      a dead letter back to its queue (`bridge sync replay`)
    POST /ui/jobs/{job}/run              run a job now, in the request (`bridge sync run`)
    GET  /ui/audit?client_id=&outcome=&interface=&since=&until=&before=
                                         the audit log, newest first, filtered

Every change is a POST from a form with the session's CSRF token, answered by a redirect
(post/redirect/get), so a reload never repeats it; what happened is said once, as a flash.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from bridge.domain.clock import utcnow
from bridge.domain.errors import BridgeError, Conflict, Forbidden, InvalidClient
from bridge.security.throttle import TooManyFailures
from bridge.sync.outbox import DEAD
from bridge.sync.status import Delivery
from bridge.ui import panels, trail
from bridge.ui.depth import WINDOWS
from bridge.ui.session import admit, client_registry, sign_in, sign_out

if TYPE_CHECKING:
    from bridge.components import Bridge

ui = Blueprint("ui", __name__)

REFRESH_SECONDS = 30
MAX_CLIENT_ID = 64
MAX_SECRET = 512
REFUSED = "Unknown client id or wrong secret."
# What a client id looks like (`ClientRegistry.create`): only such a value is audited for a
# refused sign-in, never whatever was typed (it might be a secret pasted in the wrong field).
CLIENT_ID = re.compile(r"cl_[0-9a-f]{16}")


def bridge() -> Bridge:
    the: Bridge = current_app.extensions["bridge"]
    return the


# -- signing in and out ----------------------------------------------------------------------------


@ui.get("/login")
def login() -> ResponseReturnValue:
    if g.operator is not None:
        return redirect(url_for("ui.overview"))
    return render_template("login.html", next=_local(request.args.get("next")))


@ui.post("/login")
def sign_in_form() -> ResponseReturnValue:
    client_id = request.form.get("client_id", "").strip()[:MAX_CLIENT_ID]
    secret = request.form.get("client_secret", "")[:MAX_SECRET]
    wanted = _local(request.form.get("next"))
    tried = client_id if CLIENT_ID.fullmatch(client_id) else None
    try:
        # Guessing here is throttled like at the token endpoint and the doors: a locked-out
        # source or client id is refused before the secret is checked.
        trail.check_throttle(bridge(), tried)
        client = client_registry().authenticate(client_id, secret)
        admit(client)
    except TooManyFailures as exc:
        trail.sign_in_throttled(bridge(), tried, exc.detail)
        page, code = _login_again(exc.detail, client_id, wanted, 429)
        return page, code, {"Retry-After": str(exc.retry_after)}
    except InvalidClient:
        trail.sign_in_refused(bridge(), tried, REFUSED)
        return _login_again(REFUSED, client_id, wanted, 401)
    except Forbidden as exc:
        trail.sign_in_refused(bridge(), client_id, exc.detail, tier=client.tier)
        return _login_again(exc.detail, client_id, wanted, 403)
    sign_in(client, utcnow())
    trail.record("login", "ok", 303, client_id=client.id, tier=client.tier)
    return redirect(wanted or url_for("ui.overview"), 303)


def _login_again(message: str, client_id: str, wanted: str | None, code: int) -> tuple[str, int]:
    page = render_template("login.html", error=message, client_id=client_id, next=wanted)
    return page, code


@ui.post("/logout")
def logout() -> ResponseReturnValue:
    trail.record("logout", "ok", 303)
    sign_out()
    flash("Signed out.", "ok")
    return redirect(url_for("ui.login"), 303)


# -- the overview ----------------------------------------------------------------------------------


@ui.get("/")
def overview() -> ResponseReturnValue:
    the = bridge()
    read = the.sync_status
    window = WINDOWS.get(request.args.get("window", "1h"), WINDOWS["1h"])
    refresh = REFRESH_SECONDS if request.args.get("refresh") else None
    now = utcnow()
    jobs = read.jobs(last_runs=0)
    return render_template(
        "overview.html",
        now=now,
        readiness=panels.readiness(the),
        upstreams=read.upstreams(),
        addresses=panels.addresses(the),
        jobs=jobs,
        charts=panels.depth_charts(the, jobs, window, now),
        window=window,
        windows=list(WINDOWS),
        runs=read.runs(limit=panels.RECENT_RUNS),
        dead_letters=read.dead_letters(limit=panels.DEAD_LETTERS),
        refresh=refresh,
    )


# -- deliveries and jobs ---------------------------------------------------------------------------


@ui.get("/deliveries/<int:delivery_id>")
def delivery(delivery_id: int) -> ResponseReturnValue:
    return render_template("delivery.html", delivery=_delivery(delivery_id))


@ui.post("/deliveries/<int:delivery_id>/replay")
def replay(delivery_id: int) -> ResponseReturnValue:
    """The same replay as `bridge sync replay ID` and POST /api/v1/sync/deliveries/ID/replay."""
    found = _delivery(delivery_id)
    job = found.job or found.topic
    if found.status != DEAD or bridge().sync.outbox.replay(ids=[delivery_id]) == 0:
        now = bridge().sync_status.delivery(delivery_id) or found
        flash(
            f"Delivery {delivery_id} is {now.status}, not dead: only dead letters are replayed.",
            "error",
        )
        trail.record("replay_delivery", "client_error", 409, resource_id=str(delivery_id))
    else:
        flash(
            f"Delivery {delivery_id} ({job} {found.key}) is back in the queue: the next run of "
            f"{job} delivers it.",
            "ok",
        )
        trail.record("replay_delivery", "ok", 303, resource_id=str(delivery_id))
    return redirect(url_for("ui.delivery", delivery_id=delivery_id), 303)


@ui.post("/jobs/<job>/run")
def run_job(job: str) -> ResponseReturnValue:
    """The same run as `bridge sync run JOB`, in this request, under the trigger `ui`."""
    the = bridge()
    if job not in the.sync.deliverers:
        abort(404, f"There is no sync job {job!r} in this bridge.")
    back = _local(request.form.get("back")) or url_for("ui.overview")
    try:
        report = the.sync.run(job, trigger="ui")
    except Conflict as exc:
        flash(exc.detail, "error")
        trail.record("run_job", "client_error", 409, resource_id=job, detail=exc.detail)
        return redirect(back, 303)
    except BridgeError as exc:
        flash(f"The run of {job} failed: {exc.detail}", "error")
        trail.record("run_job", "server_error", 500, resource_id=job, detail=exc.detail)
        return redirect(back, 303)
    summary = (
        f"Run {report.run_id} of {job}: claimed {report.claimed}, delivered {report.delivered}, "
        f"retried {report.retried}, dead {report.dead}"
    )
    if report.error:
        summary += f"; stopped early: {report.error}"
    flash(summary + ".", "error" if report.error else "ok")
    trail.record("run_job", "ok", 303, resource_id=job, detail=summary)
    return redirect(back, 303)


# -- the audit log ---------------------------------------------------------------------------------


@ui.get("/audit")
def audit() -> ResponseReturnValue:
    found = trail.search(request.args)
    return render_template("audit.html", search=found)


def _delivery(delivery_id: int) -> Delivery:
    found = bridge().sync_status.delivery(delivery_id)
    if found is None:
        abort(404, f"There is no delivery {delivery_id}.")
    return found


def _local(target: str | None) -> str | None:
    """`target` if it is a path of this dashboard (where to go after signing in or a form),
    else None: never a redirect to another site."""
    if not target or "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    root = request.script_root + "/"
    if parts.scheme or parts.netloc or not parts.path.startswith(root) or target.startswith("//"):
        return None
    return target

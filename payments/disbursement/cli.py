"""``wallet programme ...`` and ``wallet batch ...``: the agency's command line, over the API.

Commands call the HTTP API as the signed-in officer (``--token`` / ``WALLET_API_TOKEN``), so
they obey the same guards, four-eyes rule and audit trail as any other client. Uploads
stream the file with a progress bar; ``wallet batch watch`` follows a running batch.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import httpx

__all__ = ["COMMANDS"]

_DONE_STATES = ("succeeded", "reconciled", "failed", "returned", "reversed", "manual_review", "cancelled")


class _Api:
    def __init__(self, base_url: str, token: str | None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.Client(base_url=base_url, headers=headers, timeout=httpx.Timeout(600.0, connect=5.0))

    def call(self, method: str, path: str, **kw: Any) -> Any:
        if method == "POST":
            kw.setdefault("headers", {})["Idempotency-Key"] = str(uuid.uuid4())
        response = self.client.request(method, path, **kw)
        if response.status_code >= 400:
            try:
                problem = response.json()
                message = problem.get("detail") or problem.get("title")
                extra = {k: v for k, v in problem.items() if k not in ("type", "title", "detail", "status", "instance")}
            except ValueError:
                message, extra = response.text, {}
            raise click.ClickException(f"{response.status_code}: {message} {json.dumps(extra) if extra else ''}")
        if response.headers.get("content-type", "").startswith("text/csv"):
            return response.text
        return response.json()


pass_api = click.make_pass_decorator(_Api)


def _api_options(group: click.Group) -> click.Group:
    group = click.option(
        "--api", envvar="WALLET_API_URL", default="http://127.0.0.1:8000", show_default=True, help="API base URL."
    )(group)
    return click.option("--token", envvar="WALLET_API_TOKEN", help="Officer access token [WALLET_API_TOKEN].")(group)


def _echo(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@click.group()
@click.pass_context
def _programme(ctx: click.Context, api: str, token: str | None) -> None:
    """Welfare programmes: create, enrol beneficiaries, report."""
    ctx.obj = _Api(api, token)


programme = _api_options(_programme)


@programme.command("create")
@click.option("--name", required=True)
@click.option("--legal-basis", required=True, help="The decree or decision the programme pays under.")
@click.option("--budget", type=int, required=True, help="Budget in đồng.")
@click.option("--schedule", type=click.Choice(["one_off", "monthly"]), required=True)
@click.option("--fixed-amount", type=int, default=None, help="Amount per beneficiary; omit for per-row amounts.")
@click.option("--province", "provinces", multiple=True, help="3-digit province code (repeatable).")
@click.option("--hold-days", type=int, default=30, show_default=True)
@pass_api
def programme_create(
    api: _Api,
    name: str,
    legal_basis: str,
    budget: int,
    schedule: str,
    fixed_amount: int | None,
    provinces: tuple[str, ...],
    hold_days: int,
) -> None:
    """Create a programme owned by your organisation."""
    body = {
        "name": name,
        "legal_basis": legal_basis,
        "budget": budget,
        "schedule": schedule,
        "fixed_amount": fixed_amount,
        "provinces": list(provinces),
        "hold_days": hold_days,
    }
    _echo(api.call("POST", "/v1/programmes/", json=body))


@programme.command("list")
@pass_api
def programme_list(api: _Api) -> None:
    """Your organisation's programmes."""
    _echo(api.call("GET", "/v1/programmes/"))


@programme.command("show")
@click.argument("programme_id")
@pass_api
def programme_show(api: _Api, programme_id: str) -> None:
    """A programme, its ledger and its payments by state."""
    _echo(api.call("GET", f"/v1/programmes/{programme_id}/report"))


def _stream(path: Path, bar: Any) -> Iterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            bar.update(len(chunk))
            yield chunk


@programme.command("enrol")
@click.argument("programme_id")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), help="Save the per-row report here.")
@pass_api
def programme_enrol(api: _Api, programme_id: str, csv_file: Path, report: Path | None) -> None:
    """Upload CSV_FILE (person_id,amount,agency_reference) with a progress bar."""
    size = csv_file.stat().st_size
    with click.progressbar(length=size, label="uploading", show_pos=False) as bar:
        out = api.call(
            "POST",
            f"/v1/programmes/{programme_id}/enrolments",
            content=_stream(csv_file, bar),
            headers={"Content-Type": "text/csv", "Content-Length": str(size)},
        )
    _echo(out)
    if report is not None and out.get("report_url"):
        report.write_text(api.call("GET", out["report_url"]), encoding="utf-8")
        click.echo(f"per-row report written to {report}")


@programme.command("enrol-rule")
@click.argument("programme_id")
@click.option("--province", "provinces", multiple=True, required=True)
@click.option("--min-age", type=int, default=0)
@click.option("--max-age", type=int, default=None)
@pass_api
def programme_enrol_rule(
    api: _Api, programme_id: str, provinces: tuple[str, ...], min_age: int, max_age: int | None
) -> None:
    """Enrol residents straight from the registry (e.g. --province 001 --min-age 80)."""
    body = {"provinces": list(provinces), "min_age": min_age, "max_age": max_age}
    _echo(api.call("POST", f"/v1/programmes/{programme_id}/enrolments/rule", json=body))


@click.group()
@click.pass_context
def _batch(ctx: click.Context, api: str, token: str | None) -> None:
    """Payment batches: create, approve (another officer), release, cancel, watch."""
    ctx.obj = _Api(api, token)


batch = _api_options(_batch)


@batch.command("create")
@click.argument("programme_id")
@click.option("--cycle", required=True, help="'once' or YYYY-MM.")
@click.option("--control-count", type=int, required=True)
@click.option("--control-sum", type=int, required=True, help="Total in đồng.")
@pass_api
def batch_create(api: _Api, programme_id: str, cycle: str, control_count: int, control_sum: int) -> None:
    """Create a batch; refused unless the control totals match the beneficiaries."""
    body = {"cycle": cycle, "control_count": control_count, "control_sum": control_sum}
    _echo(api.call("POST", f"/v1/programmes/{programme_id}/batches", json=body))


@batch.command("approve")
@click.argument("batch_id")
@click.option("--control-count", type=int, required=True)
@click.option("--control-sum", type=int, required=True)
@pass_api
def batch_approve(api: _Api, batch_id: str, control_count: int, control_sum: int) -> None:
    """Approve a batch as checker, confirming its totals (the maker cannot)."""
    body = {"control_count": control_count, "control_sum": control_sum}
    _echo(api.call("POST", f"/v1/batches/{batch_id}/approve", json=body))


@batch.command("release")
@click.argument("batch_id")
@pass_api
def batch_release(api: _Api, batch_id: str) -> None:
    """Reserve the batch against the budget and start paying."""
    _echo(api.call("POST", f"/v1/batches/{batch_id}/release"))


@batch.command("cancel")
@click.argument("batch_id")
@pass_api
def batch_cancel(api: _Api, batch_id: str) -> None:
    """Cancel a batch that has not been released."""
    _echo(api.call("POST", f"/v1/batches/{batch_id}/cancel"))


@batch.command("show")
@click.argument("batch_id")
@pass_api
def batch_show(api: _Api, batch_id: str) -> None:
    """A batch and its payments by state (counts and sums)."""
    _echo(api.call("GET", f"/v1/batches/{batch_id}"))


@batch.command("watch")
@click.argument("batch_id")
@click.option("--interval", type=float, default=1.0, show_default=True)
@pass_api
def batch_watch(api: _Api, batch_id: str, interval: float) -> None:
    """Follow a released batch with a progress bar until no payment is in progress."""
    first = api.call("GET", f"/v1/batches/{batch_id}")
    total = int(first["control_count"])
    done_before = 0
    with click.progressbar(length=total, label="paying", show_pos=True, show_percent=True) as bar:
        while True:
            data = api.call("GET", f"/v1/batches/{batch_id}")
            by = {p["state"]: p["count"] for p in data["progress"]}
            done = sum(by.get(s, 0) for s in _DONE_STATES)
            bar.update(done - done_before)
            done_before = done
            if done >= total or (by.get("held", 0) + done >= total and not by.get("approved")):
                break
            time.sleep(interval)
    _echo({p["state"]: p for p in api.call("GET", f"/v1/batches/{batch_id}")["progress"]})


@batch.command("failures")
@click.argument("batch_id")
@pass_api
def batch_failures(api: _Api, batch_id: str) -> None:
    """Export failed, unknown and reviewed payments (CSV to stdout)."""
    click.echo(api.call("GET", f"/v1/batches/{batch_id}/failures.csv"), nl=False)


@batch.command("not-reached")
@click.argument("batch_id")
@pass_api
def batch_not_reached(api: _Api, batch_id: str) -> None:
    """Export the people whose hold window ended unpaid (CSV to stdout)."""
    click.echo(api.call("GET", f"/v1/batches/{batch_id}/not-reached.csv"), nl=False)


@batch.command("reconcile")
@click.argument("statement", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--provider", required=True)
@click.option("--day", required=True, help="YYYY-MM-DD")
@pass_api
def batch_reconcile(api: _Api, statement: Path, provider: str, day: str) -> None:
    """Import a provider's daily statement (operator role) and print the classification."""
    size = statement.stat().st_size
    with click.progressbar(length=size, label="importing", show_pos=False) as bar:
        out = api.call(
            "POST",
            "/v1/reconciliations",
            params={"provider": provider, "day": day},
            content=_stream(statement, bar),
            headers={"Content-Type": "text/csv", "Content-Length": str(size)},
        )
    _echo(out)


programme.name = "programme"
batch.name = "batch"
COMMANDS = [programme, batch]

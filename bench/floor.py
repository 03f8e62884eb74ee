"""The floor under a verification: what the framework and the unavoidable I/O cost, in one run.

Serves the real app with three probe routes beside the real ones, guarded, parsed and
answered as ``POST /v1/verifications`` is (the verifier guard, a ``VerifyRequest`` JSON
body, a msgspec answer), then measures one after another with the same connections:

* ``GET /health/live``: the baseline;
* ``POST /bench/floor/route``: the guard, the body and the answer, no I/O at all;
* ``POST /bench/floor/direct``: the same route served by ``DirectJson``
  (wallet_api/direct_json.py), as the verification route serves ordinary requests: what the
  server and that path cost;
* ``POST /bench/floor/io``: the same plus the work no verification can skip, one call at a
  time: one Redis command, one PostgreSQL read of the document, one committed insert into
  the access log;
* ``POST /v1/verifications`` with an online code, then with an offline payload (as
  ``bench/verify.py``).

If the route with no I/O already stays under a share of the baseline, no change to the
verification itself can bring the real route above it.

    .venv/bin/python -m bench.floor [--duration 8] [--connections 32] [--processes 2] [--server granian|uvicorn]
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import msgspec
from litestar import Litestar, Request, post
from litestar.params import JSONBody

from bench import loadgen
from bench.system import api_server, services
from bench.verify import arguments, arrange, issue_and_show, make_codes, measure, report
from documents.guards import verifier
from documents.schemas import VerifyRequest
from wallet_api.app import create_app
from wallet_api.auth.guards import principal_of
from wallet_api.direct_json import DIRECT_JSON

__all__ = ["create_floor_app"]


class FloorOut(msgspec.Struct):
    status: str
    verifier: str
    checked_at: dt.datetime


@post("/bench/floor/route", guards=[verifier], status_code=200, include_in_schema=False)
async def floor_route(request: Request[Any, Any, Any], data: JSONBody[VerifyRequest]) -> FloorOut:
    return FloorOut(status="valid", verifier=principal_of(request).key, checked_at=dt.datetime.now(dt.UTC))


@post("/bench/floor/direct", guards=[verifier], middleware=[DIRECT_JSON], status_code=200, include_in_schema=False)
async def floor_direct(request: Request[Any, Any, Any], data: JSONBody[VerifyRequest]) -> FloorOut:
    return FloorOut(status="valid", verifier=principal_of(request).key, checked_at=dt.datetime.now(dt.UTC))


@post("/bench/floor/io", guards=[verifier], status_code=200, include_in_schema=False)
async def floor_io(request: Request[Any, Any, Any], data: JSONBody[VerifyRequest]) -> FloorOut:
    state = request.app.state
    principal = principal_of(request)
    await state.services.redis.incr(f"bench:floor:{principal.key}")
    doc = await state.services.pool.fetchrow(
        "SELECT id, state, valid_until FROM documents WHERE id = $1::uuid", data.payload
    )
    await state.services.pool.execute(
        """INSERT INTO document_views (document_id, verifier_org_id, verifier, channel, fields, outcome)
           VALUES ($1, $2, $3, 'online', '{}', $4)""",
        doc["id"],
        principal.org_id,
        principal.key,
        doc["state"],
    )
    return FloorOut(status=doc["state"], verifier=principal.key, checked_at=dt.datetime.now(dt.UTC))


def create_floor_app() -> Litestar:
    return create_app(extra_routes=[floor_route, floor_direct, floor_io])


def main() -> None:
    args = arguments(__doc__).parse_args()
    with services() as settings:
        who = asyncio.run(arrange(settings))
        env = {"WALLET_DOCUMENTS_VERIFY_RATE_PER_MINUTE": "100000000"}
        with api_server(
            settings, processes=args.processes, server=args.server, extra_env=env, app="bench.floor:create_floor_app"
        ) as api:
            doc_id, payload, _ = issue_and_show(api.url, who)
            codes = asyncio.run(make_codes(settings, who, doc_id, args.codes))
            auth = {"authorization": f"Bearer {who['verifier']}"}

            def post_(path: str, body: str) -> loadgen.Request:
                return loadgen.Request.json("POST", path, {"payload": body}, auth)

            runs = [
                ("baseline GET /health/live", lambda _: loadgen.Request("GET", "/health/live")),
                ("floor: guard, body, answer (no I/O)", lambda _: post_("/bench/floor/route", doc_id)),
                ("floor: the same served directly", lambda _: post_("/bench/floor/direct", doc_id)),
                ("floor: + Redis call, PostgreSQL read, committed insert", lambda _: post_("/bench/floor/io", doc_id)),
                ("online code verification", lambda i: post_("/v1/verifications", codes[(i - 1) % len(codes)])),
                ("offline payload verification", lambda _: post_("/v1/verifications", payload)),
            ]
            results = measure(api, settings, runs, args.duration, args.connections, args.codes)
    report("floor", args, results)


if __name__ == "__main__":
    main()

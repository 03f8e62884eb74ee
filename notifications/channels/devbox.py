"""The local development boxes: what a channel would have sent, kept in Redis for 15 minutes
(the last 50 messages per destination), so that tests and developers can read it (a one-time
code, a confirmation code) with a ``wallet dev-...`` command. Never used in production."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import click
import redis.asyncio as aioredis

from wallet_api.kernel import Settings

__all__ = ["box_command", "keep", "read"]

_TTL_SECONDS = 900
_KEEP = 50


async def keep(redis: aioredis.Redis, key: str, record: dict[str, Any]) -> None:
    record = {**record, "at": time.time()}
    async with redis.pipeline(transaction=True) as pipe:
        pipe.lpush(key, json.dumps(record, ensure_ascii=False))
        pipe.ltrim(key, 0, _KEEP - 1)
        pipe.expire(key, _TTL_SECONDS)
        await pipe.execute()


async def read(redis: aioredis.Redis, key: str) -> list[dict[str, Any]]:
    """The box's messages, newest first."""
    return [json.loads(m) for m in await redis.lrange(key, 0, -1)]


def box_command(
    name: str,
    *,
    box: str,
    argument: str,
    read_for: Callable[[aioredis.Redis, str], Awaitable[list[dict[str, Any]]]],
    in_use: Callable[[Settings], bool],
    line: Callable[[dict[str, Any]], str],
) -> click.Command:
    """``wallet NAME ARGUMENT``: print what the development ``box`` holds for a destination."""

    @click.command(name, help=f"Show the messages the development {box} holds for {argument.upper()}.")
    @click.argument(argument)
    @click.option("--last", type=int, default=5, show_default=True, help="How many messages to show, newest first.")
    @click.option("--json", "as_json", is_flag=True, help="Print the messages as JSON.")
    def show(last: int, as_json: bool, **given: str) -> None:
        from wallet_api.kernel import cli_services as services
        from wallet_api.kernel import create_redis, load_settings, run_async

        destination = given[argument]
        settings = load_settings()
        if settings.env == "production" or not in_use(settings):
            raise click.ClickException(f"{name} reads the development {box}, which this deployment does not use.")

        async def fetch(redis_url: str) -> list[dict[str, Any]]:
            redis = create_redis(redis_url)
            try:
                messages = await read_for(redis, destination)
            finally:
                await redis.aclose()
            return sorted(messages, key=lambda m: float(m.get("at", 0)), reverse=True)[:last]

        with services(settings) as running:
            messages = run_async(lambda: fetch(running.redis_url))
        if as_json:
            click.echo(json.dumps(messages, ensure_ascii=False, indent=2))
            return
        if not messages:
            click.echo(f"no messages for {destination} in the last 15 minutes")
        for m in messages:
            at = dt.datetime.fromtimestamp(float(m.get("at", 0)), dt.UTC).strftime("%H:%M:%S")
            click.echo(f"{at}Z  {line(m)}")

    return show

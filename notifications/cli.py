"""``wallet dev-sms``: read what the development SMS sink holds for a phone (codes included).

Development and tests only: with a real gateway (``WALLET_SMS_GATEWAY_URL``) or in
production nothing is kept, and the command refuses rather than print nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import click

__all__ = ["dev_sms"]

_MOBILE = re.compile(r"^(?:\+?84|0)([35789][0-9]{8})$")


def phone_forms(raw: str) -> list[str]:
    """The keys a message to ``raw`` may be kept under: as typed, E.164 and national form."""
    compact = re.sub(r"[\s.()-]", "", raw)
    found = _MOBILE.match(compact)
    if found is None:
        return [compact]
    return list(dict.fromkeys([compact, "+84" + found.group(1), "0" + found.group(1)]))


@click.command("dev-sms")
@click.argument("phone")
@click.option("--last", type=int, default=5, show_default=True, help="How many messages to show, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print the messages as JSON.")
def dev_sms(phone: str, last: int, as_json: bool) -> None:
    """Show the SMS messages (one-time codes included) the development sink holds for PHONE."""
    from wallet_api.cli.runtime import load_settings, run_async, services

    settings = load_settings()
    if settings.env == "production" or settings.sms_gateway_url:
        raise click.ClickException("dev-sms reads the development SMS sink, which this deployment does not use.")

    async def read(redis_url: str) -> list[dict[str, object]]:
        from notifications.gateways.sms import read_dev_sms
        from wallet_api.redis_client import create_redis

        redis = create_redis(redis_url)
        try:
            messages = [m for form in phone_forms(phone) for m in await read_dev_sms(redis, form)]
        finally:
            await redis.aclose()
        return sorted(messages, key=lambda m: float(str(m.get("at", 0))), reverse=True)[:last]

    with services(settings) as running:
        messages = run_async(lambda: read(running.redis_url))
    if as_json:
        click.echo(json.dumps(messages, ensure_ascii=False, indent=2))
        return
    if not messages:
        click.echo(f"no messages for {phone} in the last 15 minutes")
    for m in messages:
        at = dt.datetime.fromtimestamp(float(str(m.get("at", 0))), dt.UTC).strftime("%H:%M:%S")
        click.echo(f"{at}Z  {m['text']}")

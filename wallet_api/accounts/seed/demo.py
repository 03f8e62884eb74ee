"""Demo organisations, officers, OAuth2 clients and citizens (idempotent).

Generated credentials (officer passwords, client secrets, demo citizens' passwords) are
written once to ``<data_dir>/demo-credentials.json`` (mode 0600) and never printed to
logs. Nothing with a known password is created in production.
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import asyncpg

from wallet_api.accounts.id_numbers import check_consistent, provinces
from wallet_api.accounts.orgs import create_client, create_officer, upsert_org
from wallet_api.accounts.passwords import hash_password
from wallet_api.kernel import Settings

__all__ = ["load_demo"]


def _demo() -> dict[str, Any]:
    return dict(json.loads(resources.files(__package__).joinpath("demo.json").read_text(encoding="utf-8")))


def _save_credentials(path: Path, new: dict[str, Any]) -> None:
    existing: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    for section, values in new.items():
        existing.setdefault(section, {}).update(values)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(existing, f, ensure_ascii=False, indent=2)
    tmp.replace(path)


async def load_demo(pool: asyncpg.Pool, settings: Settings) -> dict[str, Any]:
    """Create what is missing; returns the credentials generated in this run."""
    demo = _demo()
    creds: dict[str, dict[str, Any]] = {"officers": {}, "clients": {}, "citizens": {}}
    allow_known_secrets = settings.env != "production"
    async with pool.acquire() as conn, conn.transaction():
        for org in demo["organisations"]:
            await upsert_org(
                conn,
                org["id"],
                org["kind"],
                org["name"],
                document_types=org.get("document_types"),
                provinces=org.get("provinces"),
                actor="seed",
            )
            client_id = f"{org['id']}-client"
            if org.get("client_scopes") and not await conn.fetchval(
                "SELECT 1 FROM oauth_clients WHERE client_id = $1", client_id
            ):
                secret = await create_client(conn, client_id, org["id"], org["client_scopes"], actor="seed")
                creds["clients"][client_id] = {"client_secret": secret, "scopes": org["client_scopes"]}
        if allow_known_secrets:
            for officer in demo["officers"]:
                if await conn.fetchval("SELECT 1 FROM officers WHERE username = $1", officer["username"]):
                    continue
                officer_id, password = await create_officer(
                    conn, officer["org"], officer["username"], officer["name"], officer["roles"], actor="seed"
                )
                creds["officers"][officer["username"]] = {"id": officer_id, "password": password}
        for person in demo["citizens"]:
            born = date.fromisoformat(person["date_of_birth"])
            check_consistent(person["person_id"], born, person["sex"])
            province = provinces()[person["province"]].name
            await conn.execute(
                """INSERT INTO population (person_id, full_name, date_of_birth, sex, place_of_origin,
                       residence_address, residence_province, status, died_on, father_id, mother_id)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (person_id) DO NOTHING""",
                person["person_id"],
                person["full_name"],
                born,
                person["sex"],
                province,
                f"Số 1 Tràng Tiền, {province}",
                person["province"],
                "deceased" if person.get("died_on") else "alive",
                date.fromisoformat(person["died_on"]) if person.get("died_on") else None,
                person.get("father"),
                person.get("mother"),
            )
            if "phone" in person:
                await conn.execute(
                    """INSERT INTO mobile_subscribers (phone, person_id) VALUES ($1, $2)
                       ON CONFLICT (phone) DO NOTHING""",
                    person["phone"],
                    person["person_id"],
                )
            if not allow_known_secrets or "phone" not in person:
                continue
            if await conn.fetchval("SELECT 1 FROM accounts WHERE person_id = $1", person["person_id"]):
                continue
            password = secrets.token_urlsafe(12)
            await conn.execute(
                """INSERT INTO accounts (person_id, phone, level, password_hash, level_raised_at, level_raised_by)
                   VALUES ($1, $2, $3::smallint, $4, CASE WHEN $3::smallint = 2 THEN now() END,
                           CASE WHEN $3::smallint = 2 THEN 'seed' END)""",
                person["person_id"],
                person["phone"],
                person["level"],
                await hash_password(password),
            )
            creds["citizens"][person["person_id"]] = {"phone": person["phone"], "password": password}
    creds = {k: v for k, v in creds.items() if v}
    if creds:
        _save_credentials(settings.data_dir / "demo-credentials.json", creds)
    return creds

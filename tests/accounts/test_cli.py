"""`wallet org …` and `wallet officer …` create organisations, clients and officers and rotate credentials."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric import ec

from wallet_api.keys.provider import public_jwk
from wallet_api.settings import Settings


def wallet(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WALLET_DATABASE_URL": settings.database_url, "WALLET_REDIS_URL": settings.redis_url}
    return subprocess.run(
        [sys.executable, "-m", "wallet_api.cli", *args], capture_output=True, text=True, timeout=120, env=env
    )


def _shown_once(output: str, label: str) -> str:
    found = re.search(rf"{label} \(shown once\): (\S+)", output)
    assert found, output
    return found.group(1)


async def test_org_and_officer_commands(settings: Settings, client: httpx.AsyncClient, tmp_path: Path) -> None:
    r = wallet(settings, "org", "create", "welfare-qn", "--kind", "welfare", "--name", "Sở LĐTBXH Quảng Ninh",
               "--province", "022")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert wallet(settings, "org", "create", "x", "--kind", "welfare", "--name", "x", "--province", "999").returncode

    r = wallet(settings, "org", "add-client", "welfare-qn", "qn-payments", "--scope", "payments:manage")
    assert r.returncode == 0, r.stderr
    secret = _shown_once(r.stdout, "client_secret")
    form = {"grant_type": "client_credentials", "client_id": "qn-payments", "client_secret": secret}
    assert (await client.post("/oauth2/token", data=form)).status_code == 200

    key = ec.generate_private_key(ec.SECP256R1())
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**public_jwk(key.public_key()), "kid": "qn-1"}]}))
    r = wallet(settings, "org", "rotate-client", "qn-payments", "--jwks", str(jwks))
    assert r.returncode == 0 and "shown once" not in r.stdout
    assert (await client.post("/oauth2/token", data=form)).status_code == 401

    r = wallet(
        settings, "officer", "create", "welfare-qn", "maker.qn", "--name", "Ngô Thị Hà", "--role", "welfare_maker"
    )
    assert r.returncode == 0, r.stderr
    password = _shown_once(r.stdout, "password")
    sign_in = {"username": "maker.qn", "password": password}
    assert (await client.post("/v1/officers/sign-in", json=sign_in)).status_code == 200
    r = wallet(settings, "officer", "rotate-password", "maker.qn")
    new_password = _shown_once(r.stdout, r"password for maker\.qn")
    assert (await client.post("/v1/officers/sign-in", json=sign_in)).status_code == 401
    assert (
        await client.post("/v1/officers/sign-in", json={"username": "maker.qn", "password": new_password})
    ).status_code == 200
    assert wallet(settings, "officer", "disable", "maker.qn").returncode == 0
    refused = await client.post("/v1/officers/sign-in", json={"username": "maker.qn", "password": new_password})
    assert refused.status_code == 401

    r = wallet(settings, "org", "list")
    assert "welfare-qn" in r.stdout and "qn-payments" in r.stdout
    bad = wallet(settings, "officer", "create", "welfare-qn", "bad.role", "--name", "x", "--role", "wizard")
    assert bad.returncode != 0 and "unknown roles" in bad.stderr

"""What the accounts domain contributes to the service."""

from wallet_api.accounts.cli import officer, org
from wallet_api.accounts.devices import (
    complete_binding,
    complete_pairing,
    list_devices,
    rename_device,
    revoke_device,
    start_binding,
    start_pairing,
)
from wallet_api.accounts.identity import (
    change_phone,
    confirm_phone,
    link_child,
    list_children,
    me,
    raise_to_level_two,
    report_death,
)
from wallet_api.accounts.oauth import officer_sign_in, token_endpoint
from wallet_api.accounts.registration import complete_registration, start_registration
from wallet_api.accounts.seed import seed_identity
from wallet_api.accounts.sessions import purge_old_sessions
from wallet_api.accounts.signin import (
    challenge,
    refresh,
    sign_in,
    sign_out,
    sign_out_everywhere,
    step_up,
)
from wallet_api.kernel import BackgroundLoop, Domain

__all__ = ["DOMAIN"]

DOMAIN = Domain(
    name="accounts",
    routes=[
        start_registration,
        complete_registration,
        challenge,
        sign_in,
        refresh,
        step_up,
        sign_out,
        sign_out_everywhere,
        start_binding,
        complete_binding,
        start_pairing,
        complete_pairing,
        list_devices,
        rename_device,
        revoke_device,
        me,
        change_phone,
        confirm_phone,
        list_children,
        link_child,
        raise_to_level_two,
        report_death,
        token_endpoint,
        officer_sign_in,
    ],
    loops=[BackgroundLoop("accounts-session-purge", purge_old_sessions, idle_interval=3600.0)],
    commands=[org, officer],
    seeders=[seed_identity],
)

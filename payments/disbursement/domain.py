"""What disbursement contributes to the service: the agency and citizen API, the payment
dispatcher, recovery, hold and release sweeps, and the ``wallet programme`` / ``wallet batch`` commands."""

from payments.disbursement import batches, holds
from payments.disbursement.cli import COMMANDS
from payments.disbursement.dispatch import PAYOUT_PIPELINE, dispatch_continuously, recover_once
from payments.disbursement.routes import ROUTES
from wallet_api.kernel import BackgroundLoop, Domain

__all__ = ["DOMAIN"]

DOMAIN = Domain(
    name="disbursement",
    routes=ROUTES,
    consumers=[holds.WALLET_CHANGES],
    # The provider registry (PROVIDERS) is the linking domain's: both run in every process.
    services=[PAYOUT_PIPELINE],
    loops=[
        BackgroundLoop("payment-dispatch", dispatch_continuously, idle_interval=0.5),
        BackgroundLoop("payment-recovery", recover_once, idle_interval=2.0),
        BackgroundLoop("payment-holds", holds.sweep_holds_once, idle_interval=30.0),
        BackgroundLoop("batch-resolution", batches.resolve_unresolved_once, idle_interval=10.0),
    ],
    commands=COMMANDS,
)

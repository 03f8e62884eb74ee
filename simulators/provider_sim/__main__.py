"""``python -m simulators.provider_sim``: run the provider simulator (options: ``--help``)."""

from simulators.provider_sim.cli import provider_sim

provider_sim(prog_name="provider-sim")

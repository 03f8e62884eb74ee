"""Provider tests run against the provider simulator as a real server (tests/support/provider_sim.py)."""

from tests.support.provider_sim import provider_registry, provider_sim, provider_sim_server

__all__ = ["provider_registry", "provider_sim", "provider_sim_server"]

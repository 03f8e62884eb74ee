"""The documented provider API (``docs/providers.md``) over HTTPS: the first adapter, and the
one the development set uses against the simulator."""

from __future__ import annotations

from payments.providers.adapter import ProviderAdapter
from payments.providers.adapters.http.client import HttpWalletProvider

__all__ = ["ADAPTER", "HttpWalletProvider"]

# The API's settings (base_url, api_key, time-outs, connections) are the configuration's
# common fields: every provider is reached at a URL with our credentials.
ADAPTER = ProviderAdapter(name="http", build=HttpWalletProvider)

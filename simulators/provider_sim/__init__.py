"""A simulator of the e-wallet providers (``python -m simulators.provider_sim``): a real HTTP
server with its own store that fails the way real providers do. See ``docs/providers.md``."""

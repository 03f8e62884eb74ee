"""Stand-ins for other organisations' systems, for development, tests and benchmarks.

Nothing in the production packages imports this folder; it is not part of the installed
distribution nor of the production image. Each simulator runs as its own process from a
source checkout (``python -m simulators.<name>``); ``wallet dev`` starts the ones it needs.
"""

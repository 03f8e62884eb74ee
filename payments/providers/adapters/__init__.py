"""Provider adapters, one folder each (see :mod:`payments.providers.adapter`)."""

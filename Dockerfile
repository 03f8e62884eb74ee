# Citizen Wallet API and workers. Production points WALLET_DATABASE_URL and WALLET_REDIS_URL
# at real servers; nothing embedded starts in this image.
#
# Build:  docker build -t citizen-wallet .
# Run:    docker run -e WALLET_ENV=production -e WALLET_DATABASE_URL=... -e WALLET_REDIS_URL=... \
#                    -e WALLET_KEK=... -p 8000:8000 citizen-wallet            (API)
#         docker run ... citizen-wallet wallet worker                          (workers)

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY requirements.lock pyproject.toml ./
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install -r requirements.lock
# The packages of pyproject.toml's [tool.setuptools.packages.find]; simulators/ (development
# and test stand-ins for providers' systems) is deliberately not among them.
COPY wallet_api ./wallet_api
COPY documents ./documents
COPY openid4vci ./openid4vci
COPY openid4vp ./openid4vp
COPY payments ./payments
COPY notifications ./notifications
COPY proofing ./proofing
COPY consoles ./consoles
COPY migrations ./migrations
RUN /opt/venv/bin/pip install --no-deps .

FROM python:3.11-slim-bookworm AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    WALLET_ENV=production \
    WALLET_HOST=0.0.0.0 \
    WALLET_PORT=8000 \
    WALLET_DATA_DIR=/var/lib/wallet \
    WALLET_METRICS_DIR=/tmp/wallet-metrics
RUN groupadd --system wallet && useradd --system --gid wallet --home-dir /var/lib/wallet --create-home wallet
COPY --from=build /opt/venv /opt/venv
# Migrations are read from the source tree next to the installed packages.
COPY --from=build /src/migrations /opt/venv/lib/python3.11/site-packages/migrations
USER wallet
WORKDIR /var/lib/wallet
EXPOSE 8000
# Metrics are not on the API's port: `wallet serve` serves them on WALLET_METRICS_ADDRESS,
# loopback by default (docs/configuration.md, "Metrics").
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health/ready', timeout=2).status == 200 else 1)"
CMD ["wallet", "serve"]

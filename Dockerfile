# Bridge in one image: `bridge serve` (gunicorn) with the contracts and mappings it reads.
#
# One stage: every dependency ships a manylinux wheel (lxml, psycopg[binary], cryptography,
# argon2-cffi, orjson), so no compiler is installed and a build stage would save nothing.
# Python 3.11 because spyne 2.14 does not import on 3.12+.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/bridge \
    PATH=/opt/bridge/bin:$PATH

# A fixed uid, so that volumes (signing keys, the SQLite file) keep one owner across rebuilds.
RUN groupadd --system --gid 10001 bridge \
    && useradd --system --uid 10001 --gid bridge --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin bridge \
    && python -m venv "$VIRTUAL_ENV"

WORKDIR /app

# Installed as `make` installs it (an editable install from pyproject.toml, without the test
# tools): the code finds wsdl/ and mappings/ beside the package, and bridge/sims/data is not
# package data. A placeholder package installs the dependencies in their own layer, so a change
# of code does not download them again; the editable install then serves the real bridge/.
COPY pyproject.toml README.md ./
RUN mkdir bridge && touch bridge/__init__.py \
    && pip install -e . \
    && rm -r bridge

COPY bridge/ bridge/
COPY wsdl/ wsdl/
COPY mappings/ mappings/

# Byte-compiled now: the code is root's and read-only for the user that runs it. var/ is the
# only place it writes: the SQLite default, the Prometheus multiprocess files (var/prometheus,
# relative to this directory) and the token signing keys.
RUN python -m compileall -q bridge \
    && install -d -o bridge -g bridge -m 0750 var var/prometheus \
    && install -d -o bridge -g bridge -m 0700 var/keys

# No simulators: on a host that is not loopback (0.0.0.0 here) `simulators`, unset, is off, and
# `bridge serve` stops unless the four upstream URLs are set (BRIDGE_COREBANK_URL, ...), or the
# simulators are asked for (BRIDGE_SIMULATORS=true, a demo: /sims/* then answers admins only).
# A directory path, not a secret (hadolint matches "KEY" in the name).
# hadolint ignore=DL3064
ENV BRIDGE_HOST=0.0.0.0 \
    BRIDGE_PORT=8080 \
    BRIDGE_DATABASE_URL=sqlite:////app/var/bridge.db \
    BRIDGE_TOKEN_KEYS_DIR=/app/var/keys \
    BRIDGE_MAPPINGS_DIR=/app/mappings \
    BRIDGE_CONTRACTS_DIR=/app/wsdl

# Numeric, so that a runtime can check it is not root (Kubernetes runAsNonRoot).
USER 10001:10001
EXPOSE 8080

# Liveness only; /readyz (database reachable and migrated) is for orchestrators to gate traffic.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('BRIDGE_PORT', '8080'), timeout=4)"]

# `bridge serve` migrates the database (Alembic) before gunicorn forks its workers; other
# commands run in place of `serve`: `docker run IMAGE migrate`, `... clients list`.
ENTRYPOINT ["bridge"]
CMD ["serve"]

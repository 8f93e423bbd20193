# syntax=docker/dockerfile:1
# SteriStock's image (docs/deploy.md). The build stage installs the app with the pinned
# versions of constraints.txt (`make lock`) into a virtualenv; the runtime stage gets that
# virtualenv, the migrations, and PostgreSQL's pg_dump/pg_restore of the server's major
# version, so every `steristock` command (serve, backup, restore, ...) runs in it.
#
#   docker build -t steristock .
#   docker build --build-arg PG_MAJOR=17 -t steristock .   # for a PostgreSQL 17 server

ARG PYTHON_VERSION=3.11
ARG DEBIAN_RELEASE=bookworm

FROM python:${PYTHON_VERSION}-slim-${DEBIAN_RELEASE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY constraints.txt pyproject.toml README.md ./
COPY kernel ./kernel
COPY inventory ./inventory
COPY sterilization ./sterilization
COPY equipment ./equipment
COPY steristock ./steristock
RUN python -m venv /opt/steristock \
    && /opt/steristock/bin/pip install --constraint constraints.txt --upgrade pip \
    && /opt/steristock/bin/pip install --constraint constraints.txt .

FROM python:${PYTHON_VERSION}-slim-${DEBIAN_RELEASE} AS runtime
ARG DEBIAN_RELEASE
# The major version of compose.yaml's PostgreSQL (`db: image: postgres:16`): pg_dump
# refuses to dump a server newer than itself. From PGDG's apt repository (its signing key,
# fingerprint B97B0AFCAA1A47F044F244A07FCC7D46ACCC4CF8, is deploy/apt.postgresql.org.asc).
ARG PG_MAJOR=16
COPY deploy/apt.postgresql.org.asc /usr/share/keyrings/apt.postgresql.org.asc
RUN printf '%s\n' \
        "Types: deb" \
        "URIs: https://apt.postgresql.org/pub/repos/apt" \
        "Suites: ${DEBIAN_RELEASE}-pgdg" \
        "Components: main" \
        "Signed-By: /usr/share/keyrings/apt.postgresql.org.asc" \
        > /etc/apt/sources.list.d/pgdg.sources \
    && apt-get update \
    && apt-get install -y --no-install-recommends "postgresql-client-${PG_MAJOR}" \
    && rm -rf /var/lib/apt/lists/* \
    && pg_dump --version | grep -q "(PostgreSQL) ${PG_MAJOR}\." \
    && useradd --create-home --uid 10001 steristock \
    && mkdir -p /data \
    && chown steristock:steristock /data

ENV PATH=/opt/steristock/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    STERISTOCK_DATA_DIR=/data \
    DATABASE_URL=sqlite:////data/steristock.db
COPY --from=build /opt/steristock /opt/steristock
# kernel.migrations finds migrations/ in the working directory.
WORKDIR /app
COPY migrations ./migrations

USER steristock
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health').status != 200)"]
CMD ["steristock", "serve", "--host", "0.0.0.0", "--port", "8000"]

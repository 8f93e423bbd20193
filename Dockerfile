FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    STERISTOCK_DATA_DIR=/data \
    DATABASE_URL=sqlite:////data/steristock.db

WORKDIR /app
COPY pyproject.toml README.md ./
COPY kernel ./kernel
COPY steristock ./steristock
COPY inventory ./inventory
COPY sterilization ./sterilization
COPY migrations ./migrations
RUN pip install --no-cache-dir . \
    && useradd --create-home --uid 10001 steristock \
    && mkdir -p /data && chown steristock:steristock /data

USER steristock
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health').status != 200)"
CMD ["steristock", "serve", "--host", "0.0.0.0", "--port", "8000"]

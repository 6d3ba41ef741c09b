FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UPTIMEGUARD_LISTEN=0.0.0.0:8080 \
    UPTIMEGUARD_CONFIG=/etc/uptimeguard/checks.yaml \
    UPTIMEGUARD_DATABASE_URL=sqlite+aiosqlite:////var/lib/uptimeguard/uptimeguard.db

WORKDIR /app
COPY pyproject.toml README.md ./
COPY uptimeguard ./uptimeguard
RUN pip install --no-cache-dir . \
    && useradd --system --uid 10001 --home-dir /var/lib/uptimeguard uptimeguard \
    && mkdir -p /var/lib/uptimeguard /etc/uptimeguard \
    && chown uptimeguard:uptimeguard /var/lib/uptimeguard
COPY checks.yaml /etc/uptimeguard/checks.yaml

USER uptimeguard
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"
ENTRYPOINT ["uptimeguard"]
CMD ["run"]

# syntax=docker/dockerfile:1
# supportbot's image: `docker build -t supportbot .`, then `docker run --env-file .env -p
# 3000:3000 supportbot` (the default command serves on port 3000; add `--processes N` to use N
# cores). `supportbot db upgrade` runs the migrations alone: `docker run ... supportbot` with
# the entrypoint overridden (`--entrypoint supportbot supportbot db upgrade`).

# --- build: the project's wheel and the wheels of everything it needs -------------------------
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY escalation ./escalation
COPY prompts ./prompts
RUN python -m pip wheel --no-cache-dir --wheel-dir /wheels .

# --- final: the wheels installed, no build tools, no source tree, not root ----------------------
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# A fixed numeric id, so that Kubernetes' runAsNonRoot can check it.
RUN useradd --no-log-init --system --uid 10001 --user-group --create-home \
        --home-dir /app supportbot
# The wheels come in through a bind mount of the build stage: they leave no layer behind.
# --no-index: only the wheels built above, nothing fetched at this step.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    python -m pip install --no-cache-dir --no-index --find-links=/wheels /wheels/supportbot-*.whl \
    && python -m pip uninstall --yes setuptools wheel
WORKDIR /app
USER 10001:10001
EXPOSE 3000
# Liveness only (the process serves); the slim image has no curl, Python has urllib.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4)"]
ENTRYPOINT ["supportbot", "serve"]
CMD ["--host", "0.0.0.0", "--port", "3000"]

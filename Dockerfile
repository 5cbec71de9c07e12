# One image for every service of the orchestrator; the command picks the service:
#   worker:     python worker.py
#   webhooks:   uvicorn --factory webhooks.app:app_from_env --host 0.0.0.0 --port 8000
#   codec:      uvicorn --factory codec_server.app:app_from_env --host 0.0.0.0 --port 8234
#   migrations: python -m bootstrap.migrate
# Build: docker build -t retail-orchestrator:$(git rev-parse --short HEAD) \
#          --build-arg WORKER_BUILD_ID=0.1.0+$(git rev-parse --short=12 HEAD) .
FROM python:3.11.11-slim-bookworm

ARG WORKER_BUILD_ID=0.1.0+image
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    APP_ENV=production \
    PROBE_HOST=0.0.0.0 \
    WORKER_BUILD_ID=${WORKER_BUILD_ID}

WORKDIR /app
COPY pyproject.toml README.md worker.py starter.py ./
COPY infra ./infra
COPY canonical ./canonical
COPY adapters ./adapters
COPY inbox ./inbox
COPY inventory ./inventory
COPY returns ./returns
COPY sandbox ./sandbox
COPY activities ./activities
COPY workflows ./workflows
COPY services ./services
COPY ingest ./ingest
COPY tryton_local ./tryton_local
COPY bootstrap ./bootstrap
COPY cli ./cli
COPY webhooks ./webhooks
COPY codec_server ./codec_server
RUN pip install . && useradd --uid 10001 --no-create-home orchestrator
USER 10001

EXPOSE 8000 8234 8235
HEALTHCHECK NONE
CMD ["python", "worker.py"]

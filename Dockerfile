# The tier0 images, two targets of one multi-stage build:
#   tier0-operator  python -m tier0_operator (kopf, kubernetes client; no AI stack)
#   tier0           every entrypoint: python -m tier0_api | tier0_ingest.mqtt |
#                   tier0_ingest.amqp | tier0_simulators.iot | tier0_simulators.users |
#                   tier0_operator (the chart sets the command per Deployment/Job)
# tier0 is built on top of tier0-operator, so it still runs the operator (for a chart
# without operator.image) and shares its layers. Each stage installs its hashed lock
# (requirements-operator.txt, requirements.txt; scripts/lock.sh) with --require-hashes.
#
#   docker build -t tier0:0.1.0 .                                   # kind, with Docker
#   docker build --target tier0-operator -t tier0-operator:0.1.0 .
# BASE_IMAGE is any image with Python 3.11 as `python`/`pip` on PATH; without a
# registry, python -m tier0_devenv.images passes a Debian 12 one built locally
# (docs/kubernetes.md, "Images without a registry").
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE} AS python

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# A fixed non-root uid that the chart's securityContext (runAsUser 10001) matches.
RUN groupadd --system --gid 10001 tier0 \
 && useradd --system --uid 10001 --gid tier0 --no-create-home --home-dir /nonexistent tier0

FROM python AS tier0-operator
# Unset for a plain `docker build`; the registry-free build sets them so pip installs
# from a loopback wheelhouse (hashes still checked against the lock).
ARG PIP_NO_INDEX
ARG PIP_FIND_LINKS
ENV PYTHONPATH=/app/services:/app/operator
# Dependencies first, in their own layer: source edits do not reinstall them.
COPY requirements-operator.txt .
RUN pip install --no-compile --require-hashes --only-binary=:all: -r requirements-operator.txt
COPY services/tier0_common/ services/tier0_common/
COPY operator/ operator/
USER 10001:10001
CMD ["python", "-m", "tier0_operator"]

FROM tier0-operator AS tier0
ARG PIP_NO_INDEX
ARG PIP_FIND_LINKS
USER 0:0
ENV PYTHONPATH=/app/services:/app/simulators:/app/operator
COPY requirements.txt .
RUN pip install --no-compile --require-hashes --only-binary=:all: -r requirements.txt
COPY services/ services/
COPY simulators/ simulators/
USER 10001:10001
# The API port; the other components serve only /metrics (METRICS_PORT).
EXPOSE 8000
CMD ["python", "-m", "tier0_api"]

# One image for every tier0 Python component; each picks its entrypoint by command:
#   python -m tier0_api | tier0_ingest.mqtt | tier0_ingest.amqp
#   python -m tier0_simulators.iot | tier0_simulators.users | tier0_operator
# (the Helm chart sets the command per Deployment/Job). One image keeps the pinned
# requirements identical everywhere and builds once per change in skaffold dev.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app/services:/app/simulators:/app/operator

WORKDIR /app

# Dependencies first, in their own layer: source edits do not reinstall them.
COPY requirements.txt .
RUN pip install --no-compile -r requirements.txt

COPY services/ services/
COPY simulators/ simulators/
COPY operator/ operator/

# A fixed non-root uid that the chart's securityContext (runAsUser 10001) matches.
RUN groupadd --system --gid 10001 tier0 \
 && useradd --system --uid 10001 --gid tier0 --no-create-home --home-dir /nonexistent tier0
USER 10001:10001

# The API port; the other components serve only /metrics (METRICS_PORT).
EXPOSE 8000
CMD ["python", "-m", "tier0_api"]

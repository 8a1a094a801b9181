# Mosquitto 2.0 from Debian 12, shaped like the eclipse-mosquitto image the chart
# names upstream (charts/tier0/templates/mosquitto.yaml): `mosquitto` on PATH, config
# mounted at /mosquitto/config, runs as uid/gid 1883 on a read-only root filesystem
# (persistence off, logs to stdout, so it writes nothing).
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
# The package's maintainer script keeps an existing `mosquitto` user, so creating it
# first gives it the uid the chart's securityContext runs as.
RUN groupadd --system --gid 1883 mosquitto \
 && useradd --system --uid 1883 --gid mosquitto --no-create-home --home-dir /var/lib/mosquitto \
      --shell /usr/sbin/nologin mosquitto \
 && apt-get update \
 && apt-get install -y --no-install-recommends mosquitto \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
 && mkdir -p /mosquitto/config /mosquitto/data \
 && printf 'listener 1883\nallow_anonymous true\npersistence false\nlog_dest stdout\n' \
      > /mosquitto/config/mosquitto.conf \
 && chown -R 1883:1883 /mosquitto
USER 1883:1883
EXPOSE 1883
CMD ["mosquitto", "-c", "/mosquitto/config/mosquitto.conf"]

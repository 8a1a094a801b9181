# Python 3.11 on the debootstrap base (docs/kubernetes.md, "Images without a registry"):
# Debian 12's python3 in a virtualenv at /opt/python, first on PATH, so `python` and
# `pip` mean what they mean in the python:3.11-slim image the Dockerfile defaults to
# (Debian's own python3 refuses `pip install` outside a venv, PEP 668).
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
 && python3 -m venv /opt/python \
 && /opt/python/bin/pip --version
ENV PATH=/opt/python/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8
CMD ["python3"]

"""Every product image built on this machine, with no image registry (issue 7).

`python -m tier0_devenv.images build [--import-to SOCKET] [--out FILE] [--only NAME...]`
or `build_all(...)`: a Debian 12 base from debootstrap, a Python layer on it, the
tier0 and tier0-operator targets of the repo's Dockerfile, and Mosquitto, RabbitMQ
and Redis (with the Query Engine) images shaped like the upstream ones the chart
names. Tags hash the inputs, so an unchanged tree rebuilds nothing; see
docs/kubernetes.md, "Images without a registry".
"""

from .build import Manifest, build_all, plan
from .progress import ImageBuildError
from .settings import ImagesSettings

__all__ = ["ImageBuildError", "ImagesSettings", "Manifest", "build_all", "plan"]

"""Typed doors into the untyped corners of the official kubernetes client.

The client is generated code without annotations on its configuration loaders, its
watch and its connection pool, so under mypy strict every call to them is an error.
The operator and the region API reach those corners only through the functions here:
this module is the one place allowed to call them untyped (pyproject.toml), and what
it hands back is typed. Imported only by the components that talk to Kubernetes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypedDict

from kubernetes import client, config, watch

#: A Kubernetes object as the API server sends it (JSON).
Json = dict[str, Any]


class WatchEvent(TypedDict, total=False):
    """One watch event: ``object`` is deserialised unless ``deserialize=False`` was
    passed (then it is the JSON, like ``raw_object`` always is)."""

    type: str
    object: Any
    raw_object: Json


def load_kubeconfig(configuration: client.Configuration, path: str | None) -> None:
    """Credentials from ``path`` (None: KUBECONFIG or ~/.kube/config) into ``configuration``."""
    config.load_kube_config(config_file=path, client_configuration=configuration)


def kubeconfig_namespace(path: str) -> str | None:
    """The namespace of the kubeconfig's current context, if it names one."""
    _, active = config.list_kube_config_contexts(config_file=path)
    namespace = (active or {}).get("context", {}).get("namespace")
    return str(namespace) if namespace else None


def load_incluster(configuration: client.Configuration) -> None:
    """The pod's ServiceAccount credentials into ``configuration``."""
    config.load_incluster_config(client_configuration=configuration)


def close(api: client.ApiClient) -> None:
    """Close the client's connection pool."""
    api.close()


@contextmanager
def watch_stream(
    list_call: Callable[..., object], *args: object, **kwargs: object
) -> Iterator[Iterator[WatchEvent]]:
    """Watch what ``list_call(*args, **kwargs)`` lists; the watch stops when the block ends."""
    stream = watch.Watch()
    try:
        events: Iterator[WatchEvent] = stream.stream(list_call, *args, **kwargs)
        yield events
    finally:
        stream.stop()

"""How clients reach the local apiserver: the admin kubeconfig and a tiny HTTPS probe.

The kubeconfig is the one handed to kubectl, helm, the controller manager, the
scheduler, kwok and the operator under test. It is written as JSON, which every
kubeconfig loader reads (JSON is YAML), so no YAML library is needed here.
The probe is the few GETs that start-up waits on (/readyz, an object exists); it uses
the standard library so the control plane can start before any client library is
importable.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .pki import ADMIN_USER, Pki

CONTEXT_NAME = "tier0-local"


def write_kubeconfig(path: Path, server: str, pki: Pki) -> Path:
    return write_token_kubeconfig(path, server, pki.ca_cert, ADMIN_USER, pki.admin_token)


def write_token_kubeconfig(
    path: Path, server: str, ca_cert: Path, user: str, token: str, namespace: str | None = None
) -> Path:
    """A kubeconfig (mode 0600 from its creation: it holds a bearer token) for ``user``."""
    context: dict[str, str] = {"cluster": CONTEXT_NAME, "user": user}
    if namespace:
        context["namespace"] = namespace
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": CONTEXT_NAME,
                "cluster": {"server": server, "certificate-authority": str(ca_cert)},
            }
        ],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": CONTEXT_NAME, "context": context}],
        "current-context": CONTEXT_NAME,
        "preferences": {},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(json.dumps(config, indent=2) + "\n")
    return path


@dataclass(frozen=True)
class ApiProbe:
    """GET requests to the apiserver as the admin user."""

    server: str
    ca_cert: Path
    token: str
    timeout: float = 3.0

    def _open(self, path: str) -> tuple[int, bytes]:
        context = ssl.create_default_context(cafile=str(self.ca_cert))
        request = urllib.request.Request(
            self.server + path, headers={"Authorization": f"Bearer {self.token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=context) as resp:
                return int(resp.status), resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def ok(self, path: str) -> bool:
        """True when ``path`` answers 2xx; False on any error, refused or not yet."""
        try:
            return 200 <= self._open(path)[0] < 300
        except OSError:
            return False

    def get_json(self, path: str) -> dict[str, Any]:
        status, body = self._open(path)
        if not 200 <= status < 300:
            raise RuntimeError(f"GET {path} answered {status}: {body[:300]!r}")
        data: dict[str, Any] = json.loads(body)
        return data

"""Certificates, keys and the static admin token of the local control plane.

The apiserver serves TLS and signs service-account tokens, so it needs a CA, a serving
certificate, and a key pair; tests, kubectl, helm and the controllers all authenticate
with one static bearer token of a user in `system:masters`. openssl (a Debian
package already installed for this) makes them; no Python crypto dependency is
needed for a handful of files. Everything is written once per work dir and reused, so
restarting a cluster keeps the same CA and token and old kubeconfigs keep working.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..processes import BinaryMissing

ADMIN_USER = "tier0-admin"
ADMIN_GROUP = "system:masters"
SERVICE_CLUSTER_IP = "10.96.0.1"
SERVING_SANS = (
    "IP:127.0.0.1",
    "DNS:localhost",
    f"IP:{SERVICE_CLUSTER_IP}",
    "DNS:kubernetes",
    "DNS:kubernetes.default",
    "DNS:kubernetes.default.svc",
    "DNS:kubernetes.default.svc.cluster.local",
)
_DAYS = "3650"


@dataclass(frozen=True)
class Pki:
    """Paths of the files in ``<workdir>/pki`` and the admin token."""

    dir: Path
    admin_token: str

    @property
    def ca_cert(self) -> Path:
        return self.dir / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.dir / "ca.key"

    @property
    def serving_cert(self) -> Path:
        return self.dir / "apiserver.crt"

    @property
    def serving_key(self) -> Path:
        return self.dir / "apiserver.key"

    @property
    def service_account_key(self) -> Path:
        """One RSA key for both --service-account-key-file and ...-signing-key-file."""
        return self.dir / "sa.key"

    @property
    def token_file(self) -> Path:
        return self.dir / "tokens.csv"

    @property
    def kubelet_client_cert(self) -> Path:
        """The apiserver's client certificate towards a real kubelet (logs, exec)."""
        return self.dir / "apiserver-kubelet-client.crt"

    @property
    def kubelet_client_key(self) -> Path:
        return self.dir / "apiserver-kubelet-client.key"


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _rsa_key(path: Path) -> None:
    _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(path))
    path.chmod(0o600)


def ensure_pki(directory: Path, node_ip: str | None = None) -> Pki:
    """Create whatever is missing under ``directory``; existing files are kept.

    With ``node_ip`` (a real node), the serving certificate also names that address,
    which pods reach the apiserver on, and the apiserver gets a client certificate in
    system:masters that the kubelet's webhook authorizer accepts.
    """
    if shutil.which("openssl") is None:
        raise BinaryMissing("openssl not found: run scripts/install.sh (apt package openssl)")
    directory.mkdir(parents=True, exist_ok=True)
    token_file = directory / "tokens.csv"
    if not token_file.exists():
        token = secrets.token_hex(24)
        token_file.write_text(f'{token},{ADMIN_USER},{ADMIN_USER},"{ADMIN_GROUP}"\n')
        token_file.chmod(0o600)
    pki = Pki(directory, token_file.read_text().split(",", 1)[0])

    if not pki.ca_cert.exists():
        _rsa_key(pki.ca_key)
        _openssl(
            "req", "-x509", "-new", "-key", str(pki.ca_key), "-days", _DAYS,
            "-subj", "/CN=tier0-local-ca", "-out", str(pki.ca_cert),
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
        )  # fmt: skip
    if not pki.serving_cert.exists():
        _rsa_key(pki.serving_key)
        csr = directory / "apiserver.csr"
        ext = directory / "apiserver.ext"
        _openssl(
            "req", "-new", "-key", str(pki.serving_key), "-subj", "/CN=kube-apiserver",
            "-out", str(csr),
        )  # fmt: skip
        ext.write_text(
            "basicConstraints=CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=serverAuth\n"
            f"subjectAltName={','.join(_sans(node_ip))}\n"
        )
        _openssl(
            "x509", "-req", "-in", str(csr), "-CA", str(pki.ca_cert), "-CAkey", str(pki.ca_key),
            "-CAcreateserial", "-days", _DAYS, "-extfile", str(ext), "-out", str(pki.serving_cert),
        )  # fmt: skip
        csr.unlink()
    if not pki.service_account_key.exists():
        _rsa_key(pki.service_account_key)
    if node_ip is not None and not pki.kubelet_client_cert.exists():
        _client_cert(pki, "kube-apiserver-kubelet-client")
    return pki


def _sans(node_ip: str | None) -> tuple[str, ...]:
    return SERVING_SANS if node_ip is None else (*SERVING_SANS, f"IP:{node_ip}")


def _client_cert(pki: Pki, common_name: str) -> None:
    _rsa_key(pki.kubelet_client_key)
    csr = pki.dir / "client.csr"
    ext = pki.dir / "client.ext"
    _openssl(
        "req", "-new", "-key", str(pki.kubelet_client_key),
        "-subj", f"/O={ADMIN_GROUP}/CN={common_name}", "-out", str(csr),
    )  # fmt: skip
    ext.write_text(
        "basicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=clientAuth\n"
    )
    _openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(pki.ca_cert), "-CAkey", str(pki.ca_key),
        "-CAcreateserial", "-days", _DAYS, "-extfile", str(ext), "-out", str(pki.kubelet_client_cert),
    )  # fmt: skip
    csr.unlink()
    ext.unlink()

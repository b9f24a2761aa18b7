"""A project for any subject: `konspekt init`, konspekt.yml, identities that never collide,
and a setup that cannot trap (the Makefile's Python checks, build.py outside .venv)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import jsonschema
import pytest
import yaml
from anki.collection import Collection
from test_deck import import_deck, open_collection

from conftest import ROOT, run_cli, write_card
from konspekt import load_glossary
from konspekt.cli import resolve_deck_options
from konspekt.deck import build_deck
from konspekt.deck.notetype import FIELD_NAMES
from konspekt.project import Project
from konspekt.scaffold import deck_file_name, project_files
from konspekt.schema import project_schema_json

PUBLISHED_BEFORE = ROOT / "tests" / "fixtures" / "published" / "devops-fa22f0a.apkg"
NETWORK_TOPIC = """
topic: net
title: Сети
entries:
  - id: container
    term: Клеточная мембрана
    definition: Оболочка, отделяющая клетку от среды.
  - id: router
    term: Маршрутизатор
    definition: Устройство, пересылающее пакеты между сетями.
"""


def devops_deck(where: Path) -> Path:
    """This repository's deck, built from a copy of its cards (its ledger untouched)."""
    cards = Path(shutil.copytree(ROOT / "cards", where / "cards"))
    project = Project.at(ROOT, cards_dir=cards)
    build_deck(
        load_glossary(cards),
        where / "devops.apkg",
        ledger_path=cards / "anki.lock",
        options=resolve_deck_options(project),
    )
    return where / "devops.apkg"


def snapshot(col: Collection) -> dict[str, tuple[str, int, tuple[str, ...], int]]:
    """Every note by guid: its fields, modification time, tags and note type."""
    notes = (col.get_note(i) for i in col.find_notes(""))
    return {n.guid: ("\x1f".join(n.fields), n.mod, tuple(n.tags), n.mid) for n in notes}


# --- a second subject beside the DevOps notes -------------------------------------------------


@pytest.mark.slow
def test_a_new_subject_never_touches_the_devops_notes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run_cli("init", "net", "--title", "Компьютерные сети").exit_code == 0
    net = tmp_path / "net"
    (net / "cards" / "net.yaml").write_text(textwrap.dedent(NETWORK_TOPIC), encoding="utf-8")
    monkeypatch.chdir(net / "cards")  # found from a subfolder, as git finds its repository
    assert run_cli("check").exit_code == 0
    deck_run = run_cli("deck")
    assert deck_run.exit_code == 0, deck_run.stderr
    site_run = run_cli("site")
    assert site_run.exit_code == 0, site_run.stderr

    # the outputs are the project's own, named after it
    deck = net / "dist" / "kompyuternye-seti.apkg"
    assert deck.is_file() and not (tmp_path / "dist").exists()
    home = (net / "site" / "index.html").read_text(encoding="utf-8")
    assert "<title>Компьютерные сети</title>" in home
    assert 'href="downloads/kompyuternye-seti.apkg"' in home
    assert (net / "site" / "downloads" / "kompyuternye-seti.apkg").is_file()
    for page in (net / "site").rglob("*"):
        if page.suffix in (".html", ".json", ".xml"):
            assert "devops" not in page.read_text(encoding="utf-8").lower(), page

    col = open_collection(tmp_path / "learner")
    try:
        import_deck(col, devops_deck(tmp_path / "devops"))
        before = snapshot(col)
        log = import_deck(col, deck)
        after = snapshot(col)

        assert (len(log.new), log.updated, log.duplicate) == (4, [], [])
        assert {guid: after[guid] for guid in before} == before  # no DevOps note changed
        types = {m.name: m.id for m in col.models.all_names_and_ids() if "konspekt" in m.name}
        assert sorted(types) == [
            "DevOps · термин (konspekt)",
            "Компьютерные сети · термин (konspekt)",
        ]
        (container,) = col.find_notes('"deck:Компьютерные сети::Сети" "Id:container"')
        note = col.get_note(container)
        assert note.mid == types["Компьютерные сети · термин (konspekt)"]
        assert note.tags == ["компьютерные-сети::net"]
        assert len(col.find_notes('"Id:container"')) == 2  # the DevOps «Контейнер» too
    finally:
        col.close()


# --- the DevOps deck keeps its identities ------------------------------------------------------


def test_the_devops_deck_built_now_updates_nothing_the_previous_one_imported(
    tmp_path: Path,
) -> None:
    new = devops_deck(tmp_path / "now")
    col = open_collection(tmp_path / "learner")
    try:
        first = import_deck(col, PUBLISHED_BEFORE)  # the deck as main built it at fa22f0a
        before = snapshot(col)
        decks = sorted((d.id, d.name) for d in col.decks.all_names_and_ids())
        log = import_deck(col, new)
        assert len(first.new) == len(before) > 0
        assert (log.new, log.conflicting) == ([], [])
        # Updated are exactly the notes whose content changed since (later content work,
        # here the linker's senses): the ledgers of both builds say which.
        updated = sorted(n.fields[FIELD_NAMES.index("Id")] for n in log.updated)
        assert updated == content_changed_since("fa22f0a")
        assert len(log.duplicate) + len(log.updated) == len(before)

        def unchanged(notes: dict[str, tuple[str, int, tuple[str, ...], int]]) -> dict:
            entry_id = FIELD_NAMES.index("Id")
            return {k: v for k, v in notes.items() if v[0].split("\x1f")[entry_id] not in updated}

        assert unchanged(snapshot(col)) == unchanged(before)
        assert sorted((d.id, d.name) for d in col.decks.all_names_and_ids()) == decks
    finally:
        col.close()


def content_changed_since(commit: str) -> list[str]:
    """Ids whose note hash differs between the ledger at `commit` and the one now."""
    import json
    import subprocess

    then = json.loads(
        subprocess.run(
            ["git", "show", f"{commit}:cards/anki.lock"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )["notes"]
    now = json.loads((ROOT / "cards" / "anki.lock").read_text(encoding="utf-8"))["notes"]
    return sorted(i for i in now if i in then and now[i]["hash"] != then[i]["hash"])


def test_ids_are_the_published_ones(tmp_path: Path) -> None:
    def ids(apkg: Path, where: Path) -> tuple[list[str], list[int], list[int]]:
        with zipfile.ZipFile(apkg) as package:
            package.extract("collection.anki2", where)
        col = Collection(str(where / "collection.anki2"))
        try:
            guids = sorted(col.db.list("select guid from notes"))
            models = sorted(col.db.list("select distinct mid from notes"))
            decks = sorted(col.db.list("select distinct did from cards"))
        finally:
            col.close()
        return guids, models, decks

    new = devops_deck(tmp_path / "now")
    assert ids(new, tmp_path / "a") == ids(PUBLISHED_BEFORE, tmp_path / "b")


# --- the namespace, the title and the project file ----------------------------------------------


CARD = """
topic: a
title: A
entries:
  - id: x
    term: Икс
    definition: Буква.
"""


def test_changing_the_namespace_warns_and_the_title_does_not(project: Path) -> None:
    write_card(project, "a.yaml", CARD)
    assert run_cli("deck").stderr == ""
    guid = json.loads((project / "cards" / "anki.lock").read_text())["namespace"]
    assert guid == "DevOps"

    (project / "konspekt.yml").write_text(
        "title: Инфраструктура\nnamespace: DevOps\n", encoding="utf-8"
    )
    retitled = run_cli("deck")
    assert retitled.exit_code == 0 and retitled.stderr == ""
    assert "0 new" in retitled.stdout

    (project / "konspekt.yml").write_text("title: DevOps\nnamespace: Other\n", encoding="utf-8")
    renamed = run_cli("deck")
    assert renamed.exit_code == 0
    assert renamed.stderr.startswith(
        "warning: the namespace changed from 'DevOps' to 'Other': every learner who imports "
        "this deck gets every note a second time"
    )


def test_a_bad_project_file_gets_positioned_errors(project: Path) -> None:
    write_card(project, "a.yaml", CARD)
    (project / "konspekt.yml").write_text(
        "titel: Сети\nnamespace: net-1\ndeck_file: сети.apkg\n", encoding="utf-8"
    )
    run = run_cli("deck")
    assert run.exit_code == 1
    assert run.stderr.splitlines() == [
        "konspekt.yml:1:1: error: unknown field 'titel' in the project file "
        "(did you mean 'title'?)",
        "konspekt.yml:3:12: error: 'deck_file' value 'сети.apkg' is not a valid deck file name "
        "(Latin letters, digits, '.', '_' or '-', ending in .apkg, e.g. 'networks.apkg')",
        "2 errors",
    ]


def test_outside_a_project_commands_say_how_to_make_one(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "build.py"), "deck"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: not inside a konspekt project: no konspekt.yml in ")
    assert "run `konspekt init DIR` to make one, or pass --project DIR" in result.stderr


def test_project_option_builds_that_project_wherever_it_runs(
    project: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_card(project, "a.yaml", CARD)
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    run = run_cli("--project", str(project), "deck")
    assert run.exit_code == 0, run.stderr
    assert (project / "dist" / "devops.apkg").is_file()


def test_init_refuses_to_overwrite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "konspekt.yml").write_text("title: Mine\n", encoding="utf-8")
    run = run_cli("init", "notes")
    assert run.exit_code == 1
    assert run.stderr.startswith("error: notes already has konspekt.yml: init writes")
    assert (tmp_path / "notes" / "konspekt.yml").read_text() == "title: Mine\n"


def test_every_init_gets_its_own_namespace() -> None:
    first, second = (yaml.safe_load(project_files("Сети")["konspekt.yml"]) for _ in range(2))
    assert first["namespace"] != second["namespace"]
    assert re.fullmatch(r"сети-[0-9a-f]{8}", first["namespace"])
    assert deck_file_name("Компьютерные сети") == "kompyuternye-seti.apkg"
    assert deck_file_name("日本語") == "deck.apkg"


# --- one copy of each file: the scaffold is this repository's site and CI ----------------------


@pytest.mark.parametrize(
    "name",
    [
        "mkdocs.yml",
        "docs/assets/konspekt.css",
        "overrides/404.html",
        ".github/workflows/pages.yml",
        ".github/workflows/release.yml",
        ".github/workflows/test.yml",
        ".gitlab-ci.yml",
    ],
)
def test_the_scaffold_is_this_repositorys_setup(name: str) -> None:
    files = project_files("DevOps")
    text = files[name].decode("utf-8")
    # the deck file is the one placeholder: this repository's is devops.apkg
    text = text.replace(deck_file_name("DevOps"), "devops.apkg")
    assert text == (ROOT / name).read_text(encoding="utf-8")


def test_this_repository_is_a_project() -> None:
    settings = Project.find(ROOT / "cards").settings
    assert (settings.title, settings.namespace, settings.deck_file) == (
        "DevOps",
        "DevOps",
        "devops.apkg",
    )
    mkdocs = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for key in ("site_name:", "site_url:", "site_description:", "language:"):
        assert not re.search(rf"^\s*{key}", mkdocs, re.MULTILINE), key  # konspekt.yml's


def test_committed_project_schema_is_fresh_and_the_project_file_valid() -> None:
    schema_file = ROOT / "schema" / "konspekt.schema.json"
    assert schema_file.read_text(encoding="utf-8") == project_schema_json(), (
        "schema/konspekt.schema.json is stale: run `python build.py schema` and commit it"
    )
    schema = json.loads(project_schema_json())
    jsonschema.validate(yaml.safe_load((ROOT / "konspekt.yml").read_text()), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"title": "X", "namespace": "x", "titel": "Y"}, schema)


# --- a setup that cannot trap ---------------------------------------------------------------------


def fake_python(folder: Path, version: str) -> Path:
    """A `python3` that reports `version` and fails every check, as an old one would."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "python3"
    script.write_text(
        f'#!/bin/sh\ncase "$*" in *--version*) echo "Python {version}";; *) exit 1;; esac\n',
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script


def make(*args: str, dry: bool = False) -> subprocess.CompletedProcess[str]:
    command = ["make", "--no-print-directory", "-C", str(ROOT), *(["-n"] if dry else []), *args]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON", "MAKEFLAGS", "VENV")}
    return subprocess.run(command, capture_output=True, text=True, check=False, env=env)


def test_make_names_the_python_it_needs(tmp_path: Path) -> None:
    old = fake_python(tmp_path / "bin", "3.10.12")
    venv = tmp_path / "venv"
    result = make(f"PYTHON={old}", f"VENV={venv}", f"{venv}/.installed")
    assert result.returncode != 0
    assert f"error: konspekt needs Python 3.11 or newer; {old} is Python 3.10.12." in result.stderr
    assert "make PYTHON=python3.12" in result.stderr
    assert not venv.exists()


def test_make_recreates_a_venv_of_an_unsupported_or_other_python(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    # a .venv an old python3 made: its python reports 3.10
    fake_python(venv / "bin", "3.10.12").rename(venv / "bin" / "python")
    (venv / ".installed").touch()
    plan = make(f"VENV={venv}", f"{venv}/.installed", dry=True).stdout
    assert f"rm -rf {venv}\n" in plan
    # a supported one, made by another Python than the PYTHON asked for
    shutil.rmtree(venv)
    venv.mkdir()
    (venv / "bin").mkdir()
    (venv / "bin" / "python").symlink_to(sys.executable)
    (venv / ".installed").touch()
    assert "rm -rf" not in make(f"VENV={venv}", f"{venv}/.installed", dry=True).stdout
    other = fake_python(tmp_path / "other", "3.12.1")
    plan = make(f"PYTHON={other}", f"VENV={venv}", f"{venv}/.installed", dry=True).stdout
    assert f"rm -rf {venv}\n" in plan


def test_make_clean_keeps_the_venv() -> None:
    plan = make("clean", dry=True).stdout
    assert ".venv" not in plan and "rm -rf dist site" in plan
    assert "rm -rf .venv" in make("distclean", dry=True).stdout


def test_build_py_without_the_dependencies_says_what_to_run() -> None:
    # -S: no site-packages, as with a system python3 outside .venv
    result = subprocess.run(
        [sys.executable, "-S", str(ROOT / "build.py"), "deck"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: click, ")
    assert "run `make` once" in result.stderr and "`.venv/bin/python build.py deck`" in (
        result.stderr
    )

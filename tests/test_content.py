"""The shipped knowledge base: complete against the notes, faithful to them, consistent."""

from __future__ import annotations

import re

import pytest

from conftest import ROOT
from konspekt import load_glossary

GLOSSARY = load_glossary(ROOT / "cards")
# A copy of the seed notes the cards were normalized from (shared/seeds/devops-notes.ru.md).
NOTES = (ROOT / "tests" / "fixtures" / "notes" / "devops-notes.ru.md").read_text(encoding="utf-8")

# Every concept the notes name (the knowledge-base issue lists them).
CONCEPTS = [
    "docker",
    "docker-daemon",
    "container",
    "containerization",
    "image",
    "image-layer",
    "build-cache",
    "microservice",
    "dockerfile",
    "from-instruction",
    "base-image",
    "copy-instruction",
    "run-instruction",
    "cmd-instruction",
    "docker-run",
    "continuous-integration",
    "continuous-delivery",
    "continuous-deployment",
    "pipeline",
    "stage",
    "ci-job",
    "artifact",
    "deployment",
    "gitlab-ci",
    "monitoring",
    "kubernetes",
    "autoscaling",
    "probe",
    "self-healing",
    "pod",
    "volume",
    "cluster",
    "node",
    "control-plane",
    "worker-node",
    "kubelet",
    "kube-proxy",
    "api-server",
    "scheduler",
    "controller-manager",
    "controller",
    "k8s-deployment",
    "replicaset",
    "k8s-job",
    "etcd",
    "kubectl",
]


def plain(text: str) -> str:
    """Text without Markdown markup (emphasis, headings, list markers), whitespace folded."""
    text = re.sub(r"^\s*(?:[-#]+|\d+\.)\s+", "", text, flags=re.M)
    return " ".join(text.replace("*", "").split())


def prose(text: str) -> str:
    """Text outside code spans and fenced blocks."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return re.sub(r"`[^`]*`", "", text)


@pytest.mark.parametrize("concept", CONCEPTS)
def test_every_concept_of_the_notes_has_an_entry(concept: str) -> None:
    assert concept in GLOSSARY.by_id


@pytest.mark.parametrize("concept", CONCEPTS)
def test_concepts_of_the_notes_keep_their_original_wording(concept: str) -> None:
    assert GLOSSARY.by_id[concept].source, "the notes name this concept: keep their wording"


@pytest.mark.parametrize("entry", [e for e in GLOSSARY.entries if e.source], ids=lambda e: e.id)
def test_source_is_verbatim_from_the_notes(entry) -> None:
    for fragment in re.split(r"\s*(?:…|\.\.\.)\s*", plain(entry.source)):
        assert fragment in plain(NOTES), f"not in the notes: {fragment!r}"


# Completeness (en, related) and typography are `konspekt lint` rules now, so an editor
# sees them while writing; tests/test_lint.py runs `lint --strict` on these cards.

"""Generate a realistic synthetic cards folder of N entries, deterministically for a seed.

The benchmark needs card files that cost what real ones cost: Russian terms that are
adjective + noun phrases (so the linker must recognise «базового образа» and «в рабочих
узлах» as mentions of «Базовый образ» and «Рабочий узел»), aliases, Markdown details,
a few code examples, 2–5 related links, spread over topics of 200–500 entries. Entries are
about as long as the hand-written ones in cards/ (≈1.5–2 KB of YAML each).

Words are real Russian nouns and adjectives; pymorphy3 inflects them so every mention agrees
in case, number and gender, as in hand-written notes. Only `random.Random(seed)` and sorted
sequences decide anything, so the same (n, seed) always gives byte-identical files.

    python benchmarks/corpus.py 5000 /tmp/cards-5000 [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from random import Random

import pymorphy3

SCHEMA_LINE = "# yaml-language-server: $schema=../schema/cards.schema.json"

# (Russian, English). Only inanimate nouns: an animate one would need animate accusative
# agreement in the adjective, which pymorphy3 handles but which buys the benchmark nothing.
NOUNS: tuple[tuple[str, str], ...] = (
    ("образ", "image"),
    ("контейнер", "container"),
    ("узел", "node"),
    ("кластер", "cluster"),
    ("сервер", "server"),
    ("сеть", "network"),
    ("порт", "port"),
    ("том", "volume"),
    ("диск", "disk"),
    ("файл", "file"),
    ("каталог", "directory"),
    ("журнал", "log"),
    ("запрос", "request"),
    ("ответ", "response"),
    ("сертификат", "certificate"),
    ("ключ", "key"),
    ("пароль", "password"),
    ("токен", "token"),
    ("секрет", "secret"),
    ("конфигурация", "configuration"),
    ("параметр", "parameter"),
    ("процесс", "process"),
    ("поток", "thread"),
    ("очередь", "queue"),
    ("сообщение", "message"),
    ("событие", "event"),
    ("метрика", "metric"),
    ("график", "chart"),
    ("панель", "panel"),
    ("отчёт", "report"),
    ("сборка", "build"),
    ("выпуск", "release"),
    ("версия", "version"),
    ("ветка", "branch"),
    ("коммит", "commit"),
    ("репозиторий", "repository"),
    ("пакет", "package"),
    ("модуль", "module"),
    ("библиотека", "library"),
    ("зависимость", "dependency"),
    ("слой", "layer"),
    ("реестр", "registry"),
    ("манифест", "manifest"),
    ("шаблон", "template"),
    ("сценарий", "script"),
    ("задача", "task"),
    ("задание", "job"),
    ("конвейер", "pipeline"),
    ("этап", "stage"),
    ("шаг", "step"),
    ("триггер", "trigger"),
    ("сервис", "service"),
    ("маршрут", "route"),
    ("шлюз", "gateway"),
    ("адрес", "address"),
    ("домен", "domain"),
    ("запись", "record"),
    ("таблица", "table"),
    ("индекс", "index"),
    ("кэш", "cache"),
    ("буфер", "buffer"),
    ("снимок", "snapshot"),
    ("копия", "copy"),
    ("хранилище", "storage"),
    ("раздел", "partition"),
    ("блок", "block"),
    ("сегмент", "segment"),
    ("правило", "rule"),
    ("политика", "policy"),
    ("роль", "role"),
    ("группа", "group"),
    ("пространство", "space"),
    ("квота", "quota"),
    ("лимит", "limit"),
    ("ресурс", "resource"),
    ("объект", "object"),
    ("контроллер", "controller"),
    ("драйвер", "driver"),
    ("плагин", "plugin"),
    ("расширение", "extension"),
    ("интерфейс", "interface"),
    ("протокол", "protocol"),
    ("соединение", "connection"),
    ("канал", "channel"),
    ("сокет", "socket"),
    ("фильтр", "filter"),
    ("сигнал", "signal"),
    ("таймер", "timer"),
    ("счётчик", "counter"),
    ("датчик", "sensor"),
    ("оповещение", "alert"),
    ("уведомление", "notification"),
    ("исправление", "fix"),
    ("обновление", "update"),
    ("откат", "rollback"),
    ("развёртывание", "deployment"),
    ("тест", "test"),
    ("проверка", "check"),
    ("аудит", "audit"),
    ("стенд", "testbed"),
    ("площадка", "site"),
    ("экземпляр", "instance"),
    ("реплика", "replica"),
    ("ядро", "kernel"),
    ("система", "system"),
    ("платформа", "platform"),
    ("оболочка", "shell"),
    ("терминал", "terminal"),
    ("консоль", "console"),
    ("команда", "command"),
    ("аргумент", "argument"),
    ("флаг", "flag"),
    ("опция", "option"),
    ("хеш", "hash"),
    ("подпись", "signature"),
    ("шифр", "cipher"),
    ("алгоритм", "algorithm"),
    ("формат", "format"),
    ("схема", "schema"),
    ("модель", "model"),
    ("поле", "field"),
    ("массив", "array"),
    ("список", "list"),
    ("словарь", "dictionary"),
    ("строка", "string"),
    ("значение", "value"),
    ("метод", "method"),
    ("функция", "function"),
    ("вызов", "call"),
    ("цикл", "loop"),
    ("ошибка", "error"),
    ("исключение", "exception"),
    ("сбой", "failure"),
    ("инцидент", "incident"),
    ("задержка", "latency"),
    ("нагрузка", "load"),
    ("трафик", "traffic"),
    ("пул", "pool"),
    ("сессия", "session"),
    ("транзакция", "transaction"),
    ("база", "base"),
    ("документ", "document"),
    ("артефакт", "artifact"),
    ("профиль", "profile"),
)

ADJECTIVES: tuple[tuple[str, str], ...] = (
    ("базовый", "base"),
    ("рабочий", "worker"),
    ("основной", "main"),
    ("резервный", "backup"),
    ("временный", "temporary"),
    ("постоянный", "persistent"),
    ("локальный", "local"),
    ("удалённый", "remote"),
    ("внешний", "external"),
    ("внутренний", "internal"),
    ("сетевой", "network"),
    ("файловый", "file"),
    ("системный", "system"),
    ("пользовательский", "user"),
    ("служебный", "service"),
    ("общий", "shared"),
    ("частный", "private"),
    ("открытый", "open"),
    ("закрытый", "closed"),
    ("публичный", "public"),
    ("защищённый", "secure"),
    ("зашифрованный", "encrypted"),
    ("подписанный", "signed"),
    ("статический", "static"),
    ("динамический", "dynamic"),
    ("виртуальный", "virtual"),
    ("физический", "physical"),
    ("облачный", "cloud"),
    ("распределённый", "distributed"),
    ("централизованный", "centralized"),
    ("автоматический", "automatic"),
    ("ручной", "manual"),
    ("плановый", "scheduled"),
    ("корневой", "root"),
    ("дочерний", "child"),
    ("родительский", "parent"),
    ("промежуточный", "intermediate"),
    ("конечный", "final"),
    ("входной", "input"),
    ("выходной", "output"),
    ("исходный", "source"),
    ("целевой", "target"),
    ("текущий", "current"),
    ("предыдущий", "previous"),
    ("стабильный", "stable"),
    ("тестовый", "test"),
    ("отладочный", "debug"),
    ("производственный", "production"),
    ("кэшированный", "cached"),
    ("изолированный", "isolated"),
    ("выделенный", "dedicated"),
    ("гибридный", "hybrid"),
    ("горизонтальный", "horizontal"),
    ("вертикальный", "vertical"),
    ("первичный", "primary"),
    ("вторичный", "secondary"),
    ("глобальный", "global"),
    ("региональный", "regional"),
    ("зональный", "zonal"),
    ("безопасный", "safe"),
    ("быстрый", "fast"),
    ("медленный", "slow"),
    ("лёгкий", "lightweight"),
    ("многослойный", "multilayer"),
    ("именованный", "named"),
    ("анонимный", "anonymous"),
    ("декларативный", "declarative"),
    ("императивный", "imperative"),
    ("инкрементальный", "incremental"),
    ("полный", "full"),
    ("частичный", "partial"),
    ("сжатый", "compressed"),
    ("упакованный", "packed"),
    ("устаревший", "deprecated"),
    ("активный", "active"),
    ("пассивный", "passive"),
    ("фоновый", "background"),
    ("пакетный", "batch"),
    ("потоковый", "streaming"),
    ("синхронный", "synchronous"),
    ("асинхронный", "asynchronous"),
    ("доверенный", "trusted"),
    ("сторонний", "third-party"),
    ("встроенный", "built-in"),
)

TOPICS: tuple[tuple[str, str], ...] = (
    ("networking", "Сети"),
    ("storage", "Хранение данных"),
    ("security", "Безопасность"),
    ("monitoring", "Мониторинг"),
    ("logging", "Журналирование"),
    ("databases", "Базы данных"),
    ("messaging", "Очереди сообщений"),
    ("build", "Сборка"),
    ("release", "Выпуск версий"),
    ("testing", "Тестирование"),
    ("cloud", "Облачные платформы"),
    ("virtualization", "Виртуализация"),
    ("containers", "Контейнеры"),
    ("orchestration", "Оркестрация"),
    ("linux", "Linux"),
    ("shell", "Командная оболочка"),
    ("git", "Git"),
    ("ci", "Непрерывная интеграция"),
    ("cd", "Непрерывная доставка"),
    ("iac", "Инфраструктура как код"),
    ("dns", "DNS"),
    ("http", "HTTP"),
    ("tls", "TLS"),
    ("auth", "Аутентификация"),
    ("backup", "Резервное копирование"),
    ("performance", "Производительность"),
    ("caching", "Кэширование"),
    ("scheduling", "Планирование задач"),
    ("config", "Конфигурация"),
    ("incidents", "Инциденты"),
    ("observability", "Наблюдаемость"),
    ("service-mesh", "Сервисная сеть"),
)

TAGS = ("basics", "architecture", "networking", "security", "operations", "tooling", "advanced")

CASES = ("nomn", "gent", "datv", "accs", "ablt", "loct")

# Sentences with mention slots `{case}` (singular) or `{case_pl}` (plural); `{Self}` is the
# entry's own term. Present tense only, so no slot needs to agree with a verb's gender.
DEFINITION_OPENERS = (
    "{Self} — механизм, который связывает {accs} и {accs_pl}.",
    "{Self} отвечает за работу {gent} в {loct}.",
    "{Self} — часть {gent}, через которую проходят запросы к {datv_pl}.",
    "{Self} хранит сведения о {loct_pl} и передаёт их {datv}.",
    "{Self} описывает, как {nomn} взаимодействует с {ablt_pl}.",
    "{Self} — способ управлять {ablt} без ручной настройки {gent_pl}.",
    "{Self} — набор правил, по которым {nomn} выбирает {accs}.",
)
SENTENCES = (
    "Обычно настраивается вместе с {ablt}.",
    "Без {gent} работа {gent_pl} невозможна.",
    "Изменения в {loct} сразу видны {datv_pl}.",
    "Чаще всего встречается рядом с {ablt_pl}.",
    "Поведение зависит от {gent} и от настроек {gent_pl}.",
    "Используется в {loct_pl} и в {loct}.",
    "Администратор проверяет {accs} перед запуском {gent}.",
    "По сравнению с {ablt_pl} этот подход проще в сопровождении.",
    "Ошибки в {loct} приводят к сбоям {gent_pl}.",
    "Запросы к {datv} проходят через {accs}.",
    "Состояние {gent} хранится в {loct}, а копия — в {loct_pl}.",
    "Настройки {gent} наследуются от {gent}.",
    "Между {ablt} и {ablt_pl} нет прямой связи: их соединяет {nomn}.",
    "Обновление {gent} не затрагивает {accs_pl}.",
    "Нагрузку на {accs} снижают с помощью {gent_pl}.",
    "О {loct} подробнее рассказано в разделе про {accs_pl}.",
    "Так же устроены и {nomn_pl}: все они зависят от {gent}.",
    "Для {gent} важно заранее подготовить {accs}.",
    "При сбое {gent} запросы уходят к {datv}.",
    "На практике {nomn} и {nomn} почти всегда настраивают вместе.",
)
LIST_ITEMS = (
    "*{nomn}* — отвечает за {accs};",
    "*{nomn}* — хранит данные о {loct_pl};",
    "*{nomn}* — передаёт события {datv};",
    "*{nomn}* — следит за состоянием {gent_pl};",
)
COMMANDS = (
    "kubectl get {id}",
    "docker inspect {id}",
    "systemctl status {id}",
    "journalctl -u {id}",
    "git log -- {id}",
)
TEXT_EXAMPLES = (
    "В команде проверка {gent} входит в ежедневный обход.",
    "После переноса в облако {accs} пришлось настроить заново.",
    "На тестовом стенде {accs_pl} поднимают одной командой.",
)
_SLOT = re.compile(r"\{(Self|[a-z]{4}(?:_pl)?)\}")
_CONSONANT = "бвгджзйклмнпрстфхцчшщ"


class Morph:
    """Inflects the vocabulary with pymorphy3, caching per word and form (a few thousand)."""

    def __init__(self) -> None:
        self.analyzer = pymorphy3.MorphAnalyzer()

    @cache  # noqa: B019 - one Morph per process; the cache is the point
    def noun(self, word: str) -> pymorphy3.analyzer.Parse:
        for parse in self.analyzer.parse(word):
            tag = parse.tag
            if tag.POS == "NOUN" and "nomn" in tag and "sing" in tag and "inan" in tag:
                return parse
        raise ValueError(f"vocabulary: {word!r} is not an inanimate noun in pymorphy3")

    @cache  # noqa: B019
    def adjective(self, word: str) -> pymorphy3.analyzer.Parse:
        for parse in self.analyzer.parse(word):
            if parse.tag.POS in ("ADJF", "PRTF") and {"masc", "sing", "nomn"} in parse.tag:
                return parse
        raise ValueError(f"vocabulary: {word!r} is not an adjective or participle in pymorphy3")

    @cache  # noqa: B019
    def noun_form(self, word: str, case: str, number: str) -> str:
        form = self.noun(word).inflect({case, number})
        if form is None:
            raise ValueError(f"pymorphy3 cannot inflect {word!r} to {case}, {number}")
        return form.word

    @cache  # noqa: B019
    def adjective_form(self, word: str, case: str, number: str, gender: str) -> str:
        grammemes = {case, number} if number == "plur" else {case, number, gender}
        if case == "accs" and (number == "plur" or gender == "masc"):
            # only there does the accusative depend on animacy; the vocabulary is inanimate
            grammemes.add("inan")
        form = self.adjective(word).inflect(grammemes)
        if form is None:
            raise ValueError(f"pymorphy3 cannot inflect {word!r} to {sorted(grammemes)}")
        return form.word

    def gender(self, noun: str) -> str:
        gender = self.noun(noun).tag.gender
        return gender if gender in ("masc", "femn", "neut") else "masc"


@dataclass(frozen=True)
class Phrase:
    """A noun phrase: [adjective] head [genitive noun], e.g. «рабочий узел кластера»."""

    head: int  # index into NOUNS
    adjective: int | None = None  # index into ADJECTIVES
    genitive: int | None = None  # index into NOUNS; written in the genitive, never inflected
    genitive_plural: bool = False

    def form(self, morph: Morph, case: str, number: str) -> str:
        head = NOUNS[self.head][0]
        words = [morph.noun_form(head, case, number)]
        if self.adjective is not None:
            adjective = ADJECTIVES[self.adjective][0]
            gender = morph.gender(head)
            words.insert(0, morph.adjective_form(adjective, case, number, gender))
        if self.genitive is not None:
            number_of = "plur" if self.genitive_plural else "sing"
            words.append(morph.noun_form(NOUNS[self.genitive][0], "gent", number_of))
        return " ".join(words)

    def english(self) -> str:
        words = [NOUNS[self.head][1]]
        if self.genitive is not None:
            words.insert(0, NOUNS[self.genitive][1])
        if self.adjective is not None:
            words.insert(0, ADJECTIVES[self.adjective][1])
        return " ".join(words)


@dataclass
class Draft:
    """One entry while the corpus is being built."""

    id: str
    phrase: Phrase
    topic: int
    term: str
    en: str
    aliases: list[tuple[str, Phrase | None]] = field(default_factory=list)


def name_key(name: str) -> str:
    # konspekt.ru.name_key, for names of words and spaces (all this makes); repeated so
    # the generator stays independent of the package it benchmarks.
    return " ".join(name.casefold().replace("ё", "е").split())


def phrase_pool(rng: Random) -> list[Phrase]:
    """Every phrase the vocabulary allows, shuffled: singles, adj+noun, noun+gen, adj+noun+gen.

    Single nouns are few on purpose: like a real glossary, most terms are two or three words,
    and a one-word term («Узел») inside longer ones is exactly what the linker must sort out.
    """
    heads = range(len(NOUNS))
    adjectives = range(len(ADJECTIVES))
    singles = [Phrase(h) for h in heads]
    pairs = [Phrase(h, adjective=a) for h in heads for a in adjectives]
    genitives = [
        Phrase(h, genitive=g, genitive_plural=(h * 7 + g) % 3 == 0)
        for h in heads
        for g in heads
        if NOUNS[h][0] != NOUNS[g][0]
    ]
    rng.shuffle(singles)
    rng.shuffle(pairs)
    rng.shuffle(genitives)
    triples: list[Phrase] = []
    for phrase in genitives[: len(genitives) // 2]:
        triples.append(Phrase(phrase.head, rng.randrange(len(ADJECTIVES)), phrase.genitive))
    # Interleave so any prefix of the pool has the same mix: 5% single, 50% adj+noun,
    # 30% noun+gen, 15% adj+noun+gen.
    pool: list[Phrase] = []
    sources = [(singles, 1), (pairs, 10), (genitives[len(genitives) // 2 :], 6), (triples, 3)]
    while any(source for source, _ in sources):
        for source, count in sources:
            pool.extend(source[:count])
            del source[:count]
    return pool


def topic_sizes(n: int, rng: Random) -> list[int]:
    """Split n entries into topics of about 350 (200–500); below 400 entries, one topic."""
    count = max(1, round(n / 350))
    weights = [rng.uniform(0.7, 1.3) for _ in range(count)]
    sizes = [int(n * w / sum(weights)) for w in weights]
    sizes[0] += n - sum(sizes)
    return sizes


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def fix_prepositions(text: str) -> str:
    """в → во, с → со, о → об where Russian needs it: «во внешнем», «со своим», «об узле»."""
    text = re.sub(rf"(?<![\w-])([Вв]) (?=[вфВФ][{_CONSONANT}])", r"\1о ", text)
    text = re.sub(rf"(?<![\w-])([Сс]) (?=[сзшжСЗШЖ][{_CONSONANT}])", r"\1о ", text)
    return re.sub(r"(?<![\w-])([Оо]) (?=[аэиоуыАЭИОУЫ])", r"\1б ", text)


class Generator:
    def __init__(self, n: int, seed: int) -> None:
        if n < 10:
            raise ValueError("a corpus needs at least 10 entries (related links need targets)")
        self.n = n
        self.rng = Random(seed)
        self.morph = Morph()
        self.drafts: list[Draft] = []
        self.by_topic: list[list[Draft]] = []

    def plan(self) -> None:
        """Choose every entry's names, id and topic before any text, so that a definition
        can mention an entry of any topic, written before or after it."""
        rng = self.rng
        pool = phrase_pool(rng)
        claimed: set[str] = set()
        ids: set[str] = set()
        sizes = topic_sizes(self.n, rng)
        self.by_topic = [[] for _ in sizes]
        topic_of = [t for t, size in enumerate(sizes) for _ in range(size)]
        cursor = 0
        for index in range(self.n):
            phrase = pool[cursor]
            cursor += 1
            term = phrase.form(self.morph, "nomn", "sing")
            term = term[0].upper() + term[1:]
            claimed.add(name_key(term))
            en = phrase.english()
            base = slug(en)
            entry_id, suffix = base, 2
            while entry_id in ids:
                entry_id, suffix = f"{base}-{suffix}", suffix + 1
            ids.add(entry_id)
            draft = Draft(entry_id, phrase, topic_of[index], term, en[0].upper() + en[1:])
            # 0–3 aliases (≈1.5 on average, as in cards/): other phrases, sometimes English
            for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
                if rng.random() < 0.2:
                    alias, alias_phrase = en, None
                else:
                    alias_phrase = pool[cursor]
                    cursor += 1
                    alias = alias_phrase.form(self.morph, "nomn", "sing")
                if name_key(alias) in claimed:
                    continue
                claimed.add(name_key(alias))
                draft.aliases.append((alias, alias_phrase))
            self.drafts.append(draft)
            self.by_topic[draft.topic].append(draft)

    def mention(self, me: Draft, case: str, number: str) -> tuple[str, Draft]:
        """An inflected mention of another entry: 75% from the same topic."""
        rng = self.rng
        while True:
            if rng.random() < 0.75:
                other = rng.choice(self.by_topic[me.topic])
            else:
                other = rng.choice(self.drafts)
            if other is not me:
                break
        phrase: Phrase | None = other.phrase
        text = ""
        if other.aliases and rng.random() < 0.2:
            text, phrase = rng.choice(other.aliases)
        if phrase is not None:
            text = phrase.form(self.morph, case, number)
        if rng.random() < 0.1:
            text = f"*{text}*"
        return text, other

    def fill(self, template: str, me: Draft, mentioned: list[Draft]) -> str:
        def slot(match: re.Match[str]) -> str:
            name = match.group(1)
            if name == "Self":
                return me.term
            case, _, plural = name.partition("_")
            text, other = self.mention(me, case, "plur" if plural else "sing")
            mentioned.append(other)
            return text

        return fix_prepositions(_SLOT.sub(slot, template))

    def entry_yaml(self, me: Draft) -> str:
        rng = self.rng
        mentioned: list[Draft] = []
        sentences = [self.fill(rng.choice(DEFINITION_OPENERS), me, mentioned)]
        sentences += [self.fill(s, me, mentioned) for s in rng.sample(SENTENCES, rng.randint(0, 2))]
        definition = " ".join(sentences)

        paragraphs = []
        for _ in range(rng.randint(1, 3)):
            chosen = rng.sample(SENTENCES, rng.randint(2, 4))
            text = " ".join(self.fill(s, me, mentioned) for s in chosen)
            if rng.random() < 0.3:
                text += f" Команда `{rng.choice(COMMANDS).format(id=me.id)}` покажет подробности."
            paragraphs.append(text)
        if rng.random() < 0.3:
            items = [self.fill(s, me, mentioned) for s in rng.sample(LIST_ITEMS, 3)]
            items[-1] = items[-1].rstrip(";") + "."
            paragraphs.append("Основные части:\n\n" + "\n".join(f"- {i}" for i in items))

        related: list[str] = []
        for other in mentioned:
            if other.id not in related and len(related) < 3:
                related.append(other.id)
        while len(related) < rng.randint(2, 5):
            other = rng.choice(self.by_topic[me.topic])
            if other is not me and other.id not in related:
                related.append(other.id)

        lines = [f"  - id: {me.id}", f"    term: {scalar(me.term)}", f"    en: {scalar(me.en)}"]
        if me.aliases:
            lines.append(f"    aliases: [{', '.join(scalar(a) for a, _ in me.aliases)}]")
        lines += ["    definition: >-", *folded(definition, 6)]
        lines += ["    details: |", *literal("\n\n".join(paragraphs), 6)]
        examples = self.examples(me, mentioned)
        if examples:
            lines += ["    examples:", *examples]
        lines.append(f"    related: [{', '.join(related)}]")
        if rng.random() < 0.7:
            # the raw notes: first sentence, lower case, no ё — as people type them
            source = sentences[0].replace("ё", "е").replace("*", "")
            lines += ["    source: >-", *folded(source[0].lower() + source[1:], 6)]
        tags = rng.sample(TAGS, rng.randint(0, 2))
        if tags:
            lines.append(f"    tags: [{', '.join(tags)}]")
        return "\n".join(lines) + "\n"

    def examples(self, me: Draft, mentioned: list[Draft]) -> list[str]:
        rng = self.rng
        lines: list[str] = []
        if rng.random() < 0.3:
            lang, code = self.code(me)
            lines += ["      - code: |", *literal(code, 10), f"        lang: {lang}"]
        if rng.random() < 0.2:
            lines.append(f"      - {scalar(self.fill(rng.choice(TEXT_EXAMPLES), me, mentioned))}")
        return lines

    def code(self, me: Draft) -> tuple[str, str]:
        rng = self.rng
        kind = rng.choice(("bash", "yaml", "dockerfile", "json"))
        name = me.id
        if kind == "bash":
            commands = [c.format(id=name) for c in rng.sample(COMMANDS, 2)]
            return "bash", "\n".join(commands)
        if kind == "yaml":
            kind_name = "".join(w.capitalize() for w in name.split("-"))
            return "yaml", (
                f"kind: {kind_name}\nmetadata:\n  name: {name}\n"
                f"spec:\n  replicas: {rng.randint(1, 5)}\n  timeout: {rng.randint(5, 60)}s"
            )
        if kind == "dockerfile":
            return "dockerfile", (
                f"FROM debian:12-slim\nRUN apt-get update && apt-get install -y {name}\n"
                f'CMD ["{name}", "--port", "{rng.randint(1024, 9999)}"]'
            )
        return "json", json.dumps({"name": name, "enabled": True, "limit": rng.randint(1, 100)})

    def topic_yaml(self, index: int) -> tuple[str, str]:
        topic_id, title = TOPICS[index % len(TOPICS)]
        if index >= len(TOPICS):  # more than 32 topics: a second series
            series = index // len(TOPICS) + 1
            topic_id, title = f"{topic_id}-{series}", f"{title} {series}"
        entries = self.by_topic[index]
        lead = entries[0]
        mentioned: list[Draft] = []
        description = self.fill(
            "Термины темы: от {gent} до {gent_pl} и всё, что связано с {ablt}.", lead, mentioned
        )
        head = [
            SCHEMA_LINE,
            f"topic: {topic_id}",
            f"title: {scalar(title)}",
            "description: >-",
            *folded(description, 2),
            f"order: {index + 1}",
            "entries:",
        ]
        body = "\n".join(self.entry_yaml(entry) for entry in entries)
        return f"{topic_id}.yaml", "\n".join(head) + "\n" + body

    def files(self) -> dict[str, str]:
        self.plan()
        return dict(self.topic_yaml(index) for index in range(len(self.by_topic)))


_PLAIN = re.compile(r"^[A-Za-zА-Яа-яЁё][A-Za-zА-Яа-яЁё0-9 -]*$")
_YAML_WORDS = {"yes", "no", "on", "off", "true", "false", "null", "y", "n"}


def scalar(text: str) -> str:
    """A one-line YAML scalar: plain when that is safe, else a JSON string (valid YAML)."""
    if _PLAIN.match(text) and text.lower() not in _YAML_WORDS and not text.endswith(" "):
        return text
    return json.dumps(text, ensure_ascii=False)


def folded(text: str, indent: int) -> list[str]:
    """Lines of a `>-` block: wrapped at spaces only, so folding gives the text back."""
    return textwrap.wrap(
        text,
        width=92 - indent,
        initial_indent=" " * indent,
        subsequent_indent=" " * indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def literal(text: str, indent: int) -> list[str]:
    """Lines of a `|` block; empty lines stay empty (no trailing spaces)."""
    return [" " * indent + line if line else "" for line in text.split("\n")]


def generate(n: int, seed: int = 1) -> dict[str, str]:
    """The card files of a corpus of `n` entries: file name → YAML text."""
    return Generator(n, seed).files()


def write_corpus(out_dir: Path, n: int, seed: int = 1) -> list[Path]:
    """Write a fresh corpus into `out_dir` (emptied first) and return the files written."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    paths = []
    for name, text in generate(n, seed).items():
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, help="number of entries")
    parser.add_argument("out", type=Path, help="cards folder to (re)create")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    paths = write_corpus(args.out, args.n, args.seed)
    size = sum(p.stat().st_size for p in paths)
    print(f"wrote {args.n} entries in {len(paths)} files ({size / 2**20:.1f} MiB) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

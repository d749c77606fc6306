"""Which catalog files to load: the built-in ones, or those ``understanding.catalog`` names.

An integrator points ``jiayi`` at another command domain in config.yaml (docs/configuration.md)::

    understanding:
      catalog: catalogs/home           # a folder holding en.yaml (and optionally prompts-en.yaml)
      # or one file per language:
      catalog: {en: home-en.yaml, zh: home-zh.yaml}

:func:`choice_from_config` turns that value into a :class:`~assistant.ops.settings.CatalogChoice`
(:mod:`assistant.ops.config` calls it and reports its :class:`ChoiceError` with line and key);
:func:`choice_problems` is what ``check-config`` reports about the catalogs themselves; and
:func:`load_catalog_for` / :func:`catalog_file` / :func:`prompts_file` are what the pipeline,
the matcher and the dialogue load. A ``prompts-<lang>.yaml`` beside a chosen catalog overrides
the built-in dialogue prompts key by key.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from assistant import data
from assistant.ops.settings import LANGUAGES, CatalogChoice, Settings
from assistant.understanding.catalog import Catalog, CatalogError, load_catalog

BUILT_IN: Final = CatalogChoice()
_FORMAT_FIX: Final = "fix the catalog file (format: docs/catalog-format.md)"


class ChoiceError(Exception):
    """``understanding.catalog`` cannot be used: ``message`` says why, ``fix`` how to fix it."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(f"{message}; {fix}")
        self.message = message
        self.fix = fix


def choice_from_config(value: Any, folder: Path) -> CatalogChoice:
    """The config value (a folder, or a mapping language → file) as a choice with absolute paths.

    Relative paths start from ``folder`` (the config file's). Checks the shape and that the files
    exist; :func:`choice_problems` checks what is in them.
    """
    if isinstance(value, str):
        return _folder_choice(value.strip(), folder)
    if isinstance(value, Mapping):
        return _files_choice(value, folder)
    raise ChoiceError(
        "should be a folder or one catalog file per language",
        "write a folder (catalog: catalogs/home) or a mapping (catalog: {en: home-en.yaml})",
    )


def _resolve(text: str, folder: Path) -> Path:
    path = Path(text).expanduser()
    return path if path.is_absolute() else folder / path


def _folder_choice(text: str, folder: Path) -> CatalogChoice:
    if not text:
        return BUILT_IN
    path = _resolve(text, folder)
    if path.is_file():
        raise ChoiceError(
            f"{path} is a file, not a folder",
            "name the folder holding <lang>.yaml, or map each language to a file: catalog: {en: FILE}",
        )
    if not path.is_dir():
        raise ChoiceError(
            f"the folder {path} does not exist",
            "check the path (relative paths start from the config file's folder)",
        )
    if not any((path / f"{lang}.yaml").is_file() for lang in LANGUAGES):
        raise ChoiceError(
            f"the folder {path} holds no catalog ({' or '.join(f'{lang}.yaml' for lang in LANGUAGES)})",
            "put one catalog per language in it, named <lang>.yaml (format: docs/catalog-format.md)",
        )
    return CatalogChoice(folder=str(path))


def _files_choice(value: Mapping[Any, Any], folder: Path) -> CatalogChoice:
    files: list[tuple[str, str]] = []
    for lang, file in value.items():
        if lang not in LANGUAGES:
            raise ChoiceError(f'"{lang}" is not a supported language', "use en or zh as the keys")
        if not isinstance(file, str) or not file.strip():
            raise ChoiceError(f"{lang}: expected a file name", f"write {lang}: path/to/{lang}.yaml")
        path = _resolve(file.strip(), folder)
        if not path.is_file():
            raise ChoiceError(
                f"{lang}: the file {path} does not exist",
                "check the path (relative paths start from the config file's folder)",
            )
        files.append((str(lang), str(path)))
    if not files:
        raise ChoiceError(
            "names no catalog file", "write en: FILE (or delete the key for the built-in catalog)"
        )
    return CatalogChoice(files=tuple(files))


def languages(choice: CatalogChoice) -> tuple[str, ...]:
    """The languages a choice has a catalog for (all of them when built in)."""
    if choice == BUILT_IN:
        return LANGUAGES
    if choice.files:
        return tuple(lang for lang, _ in choice.files)
    return tuple(lang for lang in LANGUAGES if (Path(choice.folder) / f"{lang}.yaml").is_file())


def catalog_file(choice: CatalogChoice, lang: str) -> Path:
    """The catalog file for ``lang`` (CatalogError when the choice has none for it)."""
    if choice == BUILT_IN:
        return data.intents_dir() / f"{lang}.yaml"
    if lang not in languages(choice):
        where = choice.folder or ", ".join(file for _, file in choice.files)
        raise CatalogError(f"understanding.catalog ({where}) has no catalog for language '{lang}'")
    files = dict(choice.files)
    return Path(files[lang]) if lang in files else Path(choice.folder) / f"{lang}.yaml"


def prompts_file(choice: CatalogChoice, lang: str) -> Path | None:
    """A chosen catalog's own ``prompts-<lang>.yaml`` beside it (None: built-in prompts only)."""
    if choice == BUILT_IN or lang not in languages(choice):
        return None
    path = catalog_file(choice, lang).with_name(f"prompts-{lang}.yaml")
    return path if path.is_file() else None


def load_catalog_for(settings: Settings, lang: str | None = None) -> Catalog:
    """The catalog ``settings`` choose for ``lang`` (default: the person's language)."""
    lang = lang or settings.language
    return load_catalog(lang, catalog_file(settings.understanding.catalog, lang))


def choice_problems(choice: CatalogChoice, lang: str) -> list[tuple[str, str]]:
    """(message, fix) for everything wrong with the chosen catalogs: one missing for the person's
    language ``lang``, a catalog that does not load, a prompts file that does not load."""
    if choice == BUILT_IN:
        return []
    from assistant.conversation.prompts import PromptError, load_prompts

    problems: list[tuple[str, str]] = []
    if lang not in languages(choice):
        problems.append(
            (f"there is no catalog for the person's language ({lang})", f"add {lang}.yaml to the catalog")
        )
    for other in languages(choice):
        try:
            catalog = load_catalog(other, catalog_file(choice, other))
            load_prompts(other, catalog, overlay=prompts_file(choice, other))
        except CatalogError as err:
            problems.append((str(err), _FORMAT_FIX))
        except PromptError as err:
            problems.append((str(err), "fix the prompts file (format: docs/dialogue.md, Prompts)"))
    return problems

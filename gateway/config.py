"""A node's configuration: one TOML file in its data directory, plus environment overrides.

    [node]
    id = "fr-ncp"                       # this node's id, as peers know it
    country = "FR"                      # ISO 3166-1 alpha-2
    name = "France, national focal point"
    endpoint = "http://127.0.0.1:8701"  # the URL peers use to reach us (advertised in our card)

    [listen]                            # where `gateway serve` listens for peers
    host = "127.0.0.1"
    port = 8701

    [sops]
    dir = "/path/to/sops"               # SOP files (*.toml), loaded and checked at start

    [delivery]
    envelope_ttl_hours = 168            # how long we keep trying to deliver an envelope

    [audit]                             # optional
    checkpoint_interval_s = 10          # sign a checkpoint this often while the log grows
    witness_interval_s = 60             # check and cosign peers' checkpoints this often

Environment overrides: GATEWAY_LISTEN_HOST, GATEWAY_LISTEN_PORT, GATEWAY_SOPS_DIR,
GATEWAY_WITNESS_INTERVAL_S.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.core.card import check_country, check_node_id
from gateway.errors import ConfigError

__all__ = ["CONFIG_FILE", "Config", "load_config", "write_config"]

CONFIG_FILE = "gateway.toml"
DEFAULT_TTL_HOURS = 7 * 24
_ALLOWED = {
    "node": {"id", "country", "name", "endpoint"},
    "listen": {"host", "port"},
    "sops": {"dir"},
    "delivery": {"envelope_ttl_hours"},
    "audit": {"checkpoint_interval_s", "witness_interval_s"},
}
DEFAULT_CHECKPOINT_INTERVAL_S = 10.0
DEFAULT_WITNESS_INTERVAL_S = 60.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    data_dir: Path
    node_id: str
    country: str
    name: str
    endpoint: str
    listen_host: str
    listen_port: int
    sops_dir: Path
    envelope_ttl_ms: int
    checkpoint_interval_s: float = DEFAULT_CHECKPOINT_INTERVAL_S
    witness_interval_s: float = DEFAULT_WITNESS_INTERVAL_S

    def __post_init__(self) -> None:
        check_node_id(self.node_id)
        check_country(self.country)
        if not 0 <= self.listen_port <= 65535:
            raise ConfigError(f"listen.port {self.listen_port} is not a TCP port")
        if self.envelope_ttl_ms <= 0:
            raise ConfigError("delivery.envelope_ttl_hours must be positive")
        if not (0 < self.checkpoint_interval_s <= 10 and self.witness_interval_s > 0):
            raise ConfigError(
                "audit.checkpoint_interval_s must be in (0, 10] and witness_interval_s positive"
            )

    @property
    def key_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "gateway.db"


def _get(table: Mapping[str, Any], section: str, key: str, kind: type, source: Path) -> Any:
    if key not in table:
        raise ConfigError(f"{source}: [{section}] {key} is missing")
    value = table[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ConfigError(f"{source}: [{section}] {key} must be a {kind.__name__}")
    return value


def load_config(data_dir: Path, env: Mapping[str, str] | None = None) -> Config:
    env = os.environ if env is None else env
    path = data_dir / CONFIG_FILE
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(
            f"no node in {data_dir} ({CONFIG_FILE} is missing); create one with `gateway init`"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    for section, value in raw.items():
        if section not in _ALLOWED or not isinstance(value, dict):
            raise ConfigError(f"{path}: unknown section [{section}]; allowed: {sorted(_ALLOWED)}")
        unknown = set(value) - _ALLOWED[section]
        if unknown:
            raise ConfigError(
                f"{path}: unknown key(s) {sorted(unknown)} in [{section}];"
                f" allowed: {sorted(_ALLOWED[section])}"
            )
    node = raw.get("node", {})
    listen = raw.get("listen", {})
    sops = raw.get("sops", {})
    delivery = raw.get("delivery", {})
    port = env.get("GATEWAY_LISTEN_PORT")
    try:
        listen_port = int(port) if port else _get(listen, "listen", "port", int, path)
    except ValueError as exc:
        raise ConfigError(f"GATEWAY_LISTEN_PORT={port!r} is not a number") from exc
    sops_dir = Path(env.get("GATEWAY_SOPS_DIR") or _get(sops, "sops", "dir", str, path))
    ttl = delivery.get("envelope_ttl_hours", DEFAULT_TTL_HOURS)
    if not isinstance(ttl, int) or isinstance(ttl, bool):
        raise ConfigError(f"{path}: [delivery] envelope_ttl_hours must be a whole number")
    return Config(
        data_dir=data_dir,
        node_id=_get(node, "node", "id", str, path),
        country=_get(node, "node", "country", str, path),
        name=_get(node, "node", "name", str, path),
        endpoint=_get(node, "node", "endpoint", str, path),
        listen_host=env.get("GATEWAY_LISTEN_HOST") or _get(listen, "listen", "host", str, path),
        listen_port=listen_port,
        sops_dir=sops_dir if sops_dir.is_absolute() else (data_dir / sops_dir),
        envelope_ttl_ms=ttl * 3_600_000,
        **_audit_intervals(raw.get("audit", {}), env, path),
    )


def _audit_intervals(audit: Mapping[str, Any], env: Mapping[str, str], path: Path) -> Any:
    """The optional [audit] intervals, as keyword arguments for Config."""
    found: dict[str, float] = {}
    for key, value in audit.items():
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ConfigError(f"{path}: [audit] {key} must be a number of seconds")
        found[key] = float(value)
    override = env.get("GATEWAY_WITNESS_INTERVAL_S")
    if override:
        try:
            found["witness_interval_s"] = float(override)
        except ValueError as exc:
            raise ConfigError(f"GATEWAY_WITNESS_INTERVAL_S={override!r} is not a number") from exc
    return found


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(config: Config) -> None:
    text = (
        "# gateway node configuration (see `gateway --help`)\n"
        "[node]\n"
        f"id = {_toml_str(config.node_id)}\n"
        f"country = {_toml_str(config.country)}\n"
        f"name = {_toml_str(config.name)}\n"
        f"endpoint = {_toml_str(config.endpoint)}\n\n"
        "[listen]\n"
        f"host = {_toml_str(config.listen_host)}\n"
        f"port = {config.listen_port}\n\n"
        "[sops]\n"
        f"dir = {_toml_str(str(config.sops_dir))}\n\n"
        "[delivery]\n"
        f"envelope_ttl_hours = {config.envelope_ttl_ms // 3_600_000}\n"
    )
    path = config.data_dir / CONFIG_FILE
    with open(path, "x", encoding="utf-8") as fh:
        fh.write(text)

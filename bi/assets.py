"""Superset's side of ``make bi`` and ``make bi-export``: set up the metadata DB, import the
dashboards kept in the repository, and export them back as clean YAML.

Runs in Superset's own virtualenv (``.venv-bi``; ``python -m loyalty.bi`` calls it there, and
docker-compose's Superset service calls it in its image), so it imports Superset and nothing of the
project. ``SUPERSET_CONFIG_PATH`` must name ``bi/superset_config.py``.

    python bi/assets.py setup  --dashboards bi/dashboards --serving /abs/path/loyalty.duckdb
    python bi/assets.py export --dashboards bi/dashboards

``setup`` migrates the metadata DB, syncs the roles (once per Superset version), creates the user
``admin`` if absent (password from ``LOYALTY_BI_ADMIN_PASSWORD``; an existing user is kept, and its
password changed only with ``--reset-password``), imports the bundle over whatever is there (the
database, datasets, charts and dashboards are matched by UUID and overwritten; users and anything
else are kept), refreshes the datasets' columns from the serving file, and prints the night the
serving file holds.

The bundle is Superset's import format (``metadata.yaml``, ``databases/``, ``datasets/``,
``charts/``, ``dashboards/``) with three differences that keep diffs clean, which ``export``
writes and ``setup`` reads back:

- the database URI is ``duckdb:///${LOYALTY_SERVING}``: the path is filled in at import;
- ids of this Superset are left out (a chart's datasource, slice and dashboard ids: the import
  sets them from the UUIDs), and a dashboard names its charts by a number derived from the
  chart's UUID, so an export from any Superset gives the same files;
- keys are sorted, lists of columns and metrics sorted by name, a chart's ``query_context`` is
  indented JSON, and the per-session colour maps Superset records (``shared_label_colors``,
  ``map_label_colors``) are dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import yaml

URI_TEMPLATE = "duckdb:///${LOYALTY_SERVING}"
BUNDLE_DIRS = ("databases", "datasets", "charts", "dashboards")
ADMIN = "admin"


# --- YAML, the same bytes every time ----------------------------------------------------------------
class _Dumper(yaml.SafeDumper):
    pass


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=True, allow_unicode=True, default_flow_style=False, width=4096)


def read_bundle(folder: Path) -> dict[str, str]:
    """The bundle's files as Superset's importers take them: {relative path: text}."""
    if not (folder / "metadata.yaml").exists():
        raise SystemExit(f"{folder} is not a dashboard bundle: it has no metadata.yaml")
    contents = {"metadata.yaml": (folder / "metadata.yaml").read_text(encoding="utf-8")}
    for sub in BUNDLE_DIRS:
        for path in sorted((folder / sub).rglob("*.yaml")):
            contents[path.relative_to(folder).as_posix()] = path.read_text(encoding="utf-8")
    return contents


# --- ids <-> UUID-derived numbers in a dashboard ------------------------------------------------------
def canonical_chart_id(uuid: str) -> int:
    """A chart's number in the repository's dashboard files: the first 7 hex digits of its UUID."""
    return int(str(uuid).replace("-", "")[:7], 16)


def _remap_dashboard_ids(config: dict, id_map: dict[int, int], *, charts_in_scope_only: bool = False) -> dict:
    """Every chart id of a dashboard's position and metadata through ``id_map`` (ids not in it are
    dropped from lists: a chart no longer on the dashboard). ``charts_in_scope_only``: just the
    ``chartsInScope`` lists, the ids Superset's importer leaves as they were in the file."""
    def ids(values: list) -> list:
        return [id_map[int(v)] for v in values if int(v) in id_map]

    if charts_in_scope_only:
        meta = config.get("metadata", {})
        scoped = [*meta.get("native_filter_configuration", []), meta.get("global_chart_configuration", {}),
                  *(c.get("crossFilters", {}) for c in meta.get("chart_configuration", {}).values() if isinstance(c, dict))]
        for item in scoped:
            if item.get("chartsInScope") is not None:
                item["chartsInScope"] = sorted(ids(item["chartsInScope"]))
        return config

    for child in config.get("position", {}).values():
        if isinstance(child, dict) and child.get("type") == "CHART" and child.get("meta", {}).get("chartId") in id_map:
            child["meta"]["chartId"] = id_map[child["meta"]["chartId"]]
    meta = config.get("metadata", {})
    for f in meta.get("native_filter_configuration", []):
        if "chartsInScope" in f:
            f["chartsInScope"] = sorted(ids(f["chartsInScope"]))
        scope = f.get("scope", {})
        if isinstance(scope, dict) and scope.get("excluded"):
            scope["excluded"] = sorted(ids(scope["excluded"]))
    glob = meta.get("global_chart_configuration", {})
    if glob.get("chartsInScope") is not None:
        glob["chartsInScope"] = sorted(ids(glob["chartsInScope"]))
    if isinstance(glob.get("scope"), dict) and glob["scope"].get("excluded"):
        glob["scope"]["excluded"] = sorted(ids(glob["scope"]["excluded"]))
    if "chart_configuration" in meta:
        remapped = {}
        for key, conf in meta["chart_configuration"].items():
            if int(key) not in id_map:
                continue
            new = id_map[int(key)]
            if isinstance(conf, dict):
                conf["id"] = new
                cross = conf.get("crossFilters", {})
                if cross.get("chartsInScope") is not None:
                    cross["chartsInScope"] = sorted(ids(cross["chartsInScope"]))
                if isinstance(cross.get("scope"), dict) and cross["scope"].get("excluded"):
                    cross["scope"]["excluded"] = sorted(ids(cross["scope"]["excluded"]))
            remapped[str(new)] = conf
        meta["chart_configuration"] = remapped
    for key in ("timed_refresh_immune_slices",):
        if meta.get(key):
            meta[key] = sorted(ids(meta[key]))
    if meta.get("expanded_slices"):
        meta["expanded_slices"] = {str(id_map[int(k)]): v for k, v in meta["expanded_slices"].items() if int(k) in id_map}
    return config


def _position_uuids(config: dict) -> dict[str, int]:
    return {c["meta"]["uuid"]: c["meta"]["chartId"] for c in config.get("position", {}).values()
            if isinstance(c, dict) and c.get("type") == "CHART" and "uuid" in c.get("meta", {})}


# --- cleaning an export ----------------------------------------------------------------------------------
_INSTANCE_KEYS = ("datasource", "slice_id", "dashboards", "dashboardId", "url_params")


def clean_chart(config: dict) -> dict:
    params = config.get("params") or {}
    for key in _INSTANCE_KEYS:
        params.pop(key, None)
    if config.get("query_context"):
        qc = json.loads(config["query_context"])
        qc.pop("datasource", None)
        for key in _INSTANCE_KEYS:
            qc.get("form_data", {}).pop(key, None)
        for query in qc.get("queries", []):
            query.pop("datasource", None)
        config["query_context"] = json.dumps(qc, indent=2, sort_keys=True, ensure_ascii=False)
    config.pop("id", None)
    return config


def clean_dataset(config: dict) -> dict:
    config["columns"] = sorted(config.get("columns") or [], key=lambda c: c["column_name"])
    config["metrics"] = sorted(config.get("metrics") or [], key=lambda m: m["metric_name"])
    return config


def clean_database(config: dict) -> dict:
    config["sqlalchemy_uri"] = URI_TEMPLATE
    for key in ("password", "encrypted_extra", "masked_encrypted_extra", "ssh_tunnel"):
        config.pop(key, None)
    return config


def clean_dashboard(config: dict) -> dict:
    id_map = {real: canonical_chart_id(uuid) for uuid, real in _position_uuids(config).items()}
    _remap_dashboard_ids(config, id_map)
    meta = config.get("metadata", {})
    for key in ("shared_label_colors", "map_label_colors", "color_scheme_domain"):
        meta.pop(key, None)
    return config


def _slug(text: str, fallback: str) -> str:
    """The name's ASCII words (the English beside the Chinese), for a readable file name."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    while words and words[0].isdigit():
        words.pop(0)
    return "_".join(words)[:60].rstrip("_") or fallback


def clean_export(files: dict[str, str]) -> dict[str, str]:
    """Superset's export ({path: yaml}) -> the repository's bundle ({path: yaml})."""
    out: dict[str, str] = {"metadata.yaml": dump_yaml({"version": "1.0.0", "type": "assets"})}
    configs = sorted(((path.split("/", 1)[0], yaml.safe_load(text)) for path, text in files.items()
                      if path.split("/", 1)[0] in BUNDLE_DIRS), key=lambda kc: (kc[0], str(kc[1]["uuid"])))
    for kind, config in configs:  # in UUID order: two charts of one name get the same files every time
        uuid8 = str(config["uuid"])[:8]
        if kind == "charts":
            config, name = clean_chart(config), f"charts/{_slug(config['slice_name'], uuid8)}.yaml"
        elif kind == "datasets":
            config = clean_dataset(config)
            name = f"datasets/{config.get('schema') or 'default'}.{config['table_name']}.yaml"
        elif kind == "databases":
            config, name = clean_database(config), f"databases/{_slug(config['database_name'], uuid8)}.yaml"
        else:
            config = clean_dashboard(config)
            name = f"dashboards/{_slug(config.get('slug') or config['dashboard_title'], uuid8)}.yaml"
        if name in out:
            name = name.replace(".yaml", f"_{uuid8}.yaml")
        out[name] = dump_yaml(config)
    return out


# --- Superset ------------------------------------------------------------------------------------------
def _app():  # type: ignore[no-untyped-def]
    if not os.environ.get("SUPERSET_CONFIG_PATH"):
        raise SystemExit("SUPERSET_CONFIG_PATH is not set: point it at bi/superset_config.py")
    from superset.app import create_app

    return create_app()


def _as_admin() -> Any:
    from flask import g
    from superset import security_manager

    user = security_manager.find_user(username=ADMIN)
    if user is None:
        raise SystemExit(f"no user {ADMIN!r} in Superset's metadata DB: run `make bi` (python -m loyalty.bi setup) first")
    g.user = user
    return user


def _migrate_and_init(home: Path) -> None:
    from flask_migrate import upgrade
    from superset import appbuilder, security_manager
    from superset.utils.version import get_version_metadata  # type: ignore[attr-defined]

    upgrade()
    version = get_version_metadata().get("version_string", "unknown")
    marker = home / f".initialised-{version}"
    if not marker.exists():  # `superset init`: permissions and roles, ~10 s; again only after an upgrade
        appbuilder.add_permissions(update_perms=True)
        security_manager.sync_role_definitions()
        marker.write_text(version + "\n")


def _ensure_admin(reset_password: bool) -> str:
    from superset import db, security_manager

    password = os.environ.get("LOYALTY_BI_ADMIN_PASSWORD", "")
    user = security_manager.find_user(username=ADMIN)
    if user is None:
        if not password:
            raise SystemExit("LOYALTY_BI_ADMIN_PASSWORD is empty: the new admin user needs a password")
        role = security_manager.find_role("Admin")
        if security_manager.add_user(ADMIN, "BI", "Admin", "admin@localhost", role, password=password) is None:
            raise SystemExit("could not create the admin user (see the log above)")
        db.session.commit()
        return "created"
    if reset_password and password:
        security_manager.reset_password(user.id, password)
        db.session.commit()
        return "kept, password reset"
    return "kept"


def _import(contents: dict[str, str], serving: Path) -> dict[str, int]:
    from superset import db
    from superset.commands.importers.v1.assets import ImportAssetsCommand
    from superset.connectors.sqla.models import SqlaTable
    from superset.models.dashboard import Dashboard
    from superset.models.slice import Slice

    contents = {k: (v.replace("${LOYALTY_SERVING}", str(serving)) if k.startswith("databases/") else v)
                for k, v in contents.items()}
    ImportAssetsCommand(contents).run()
    # the native filters' and cross-filters' chartsInScope hold the repository's chart numbers:
    # Superset's import maps the position's ids and the scopes' exclusions, not these
    counts = {"databases": 0, "datasets": 0, "charts": 0, "dashboards": 0}
    for path, text in contents.items():
        kind = path.split("/", 1)[0]
        if kind in counts:
            counts[kind] += 1
        if kind == "datasets":
            config = yaml.safe_load(text)
            dataset = db.session.query(SqlaTable).filter_by(uuid=config["uuid"]).one()
            if not dataset.sql:
                dataset.fetch_metadata()  # new mart columns appear; calculated columns and metrics stay
        if kind == "dashboards":
            config = yaml.safe_load(text)
            real = {str(s.uuid): s.id for s in db.session.query(Slice).filter(Slice.uuid.in_(list(_position_uuids(config))))}
            id_map = {canonical: real[uuid] for uuid, canonical in _position_uuids(config).items() if uuid in real}
            dashboard = db.session.query(Dashboard).filter_by(uuid=config["uuid"]).one()
            fixed = _remap_dashboard_ids({"metadata": json.loads(dashboard.json_metadata or "{}")}, id_map,
                                         charts_in_scope_only=True)
            dashboard.json_metadata = json.dumps(fixed["metadata"])
    db.session.commit()
    return counts


def _serving_night(database_uuid: str) -> str:
    from superset import db
    from superset.models.core import Database

    database = db.session.query(Database).filter_by(uuid=database_uuid).one()
    with database.get_sqla_engine() as engine, engine.connect() as conn:
        return str(conn.exec_driver_sql("select batch_id from meta.publication").scalar())


def cmd_setup(args: argparse.Namespace) -> int:
    serving = Path(args.serving).resolve()
    if not serving.exists():
        raise SystemExit(f"no serving file at {serving}: run `make demo` (or a night) first, or set LOYALTY_SERVING")
    contents = read_bundle(Path(args.dashboards))
    home = Path(os.environ.get("LOYALTY_BI_HOME", "."))
    app = _app()
    with app.app_context():
        _migrate_and_init(home)
        admin = _ensure_admin(args.reset_password)
        _as_admin()
        counts = _import(contents, serving)
        db_uuid = next(yaml.safe_load(v)["uuid"] for k, v in contents.items() if k.startswith("databases/"))
        night = _serving_night(db_uuid)
    print(json.dumps({"admin": admin, "imported": counts, "serving": str(serving), "night": night}))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    dest = Path(args.dashboards)
    app = _app()
    with app.app_context():
        from superset import db
        from superset.commands.dashboard.export import ExportDashboardsCommand
        from superset.models.dashboard import Dashboard

        _as_admin()
        ids = [d.id for d in db.session.query(Dashboard).order_by(Dashboard.id)]
        files = {name: content() for name, content in ExportDashboardsCommand(ids, export_related=True).run()}
    bundle = clean_export(files)
    for sub in BUNDLE_DIRS:  # charts deleted in Superset leave the repository too
        for old in (dest / sub).rglob("*.yaml") if (dest / sub).exists() else []:
            old.unlink()
    for name, text in bundle.items():
        path = dest / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    print(json.dumps({"exported": {k: sum(1 for n in bundle if n.startswith(k + "/")) for k in BUNDLE_DIRS},
                      "to": str(dest)}))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bi/assets.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("setup", help="migrate, sync roles, ensure the admin user, import the bundle")
    p.add_argument("--dashboards", required=True, help="the bundle folder (bi/dashboards)")
    p.add_argument("--serving", required=True, help="the serving DuckDB file the database points at")
    p.add_argument("--reset-password", action="store_true", help="set the existing admin's password to LOYALTY_BI_ADMIN_PASSWORD")
    p.set_defaults(func=cmd_setup)
    p = sub.add_parser("export", help="write every dashboard (with its charts, datasets, database) as the bundle")
    p.add_argument("--dashboards", required=True, help="the bundle folder to write (bi/dashboards)")
    p.set_defaults(func=cmd_export)
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())

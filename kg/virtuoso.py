"""Virtuoso on this machine (Debian's virtuoso-opensource): a configuration from the package's template, and its bulk
loader run through `isql-vt`. Used by `kg load --bulk-dir`, the backend tests and bench/scale.py.
"""

import configparser
import shutil
import subprocess
from pathlib import Path

TEMPLATE = Path("/usr/share/virtuoso-opensource-7/virtuoso.ini")


class IsqlError(RuntimeError):
    """isql-vt is missing, failed, or reported an error (the message holds the first lines)."""


def write_ini(folder: Path, sql_port: int, http_port: int, **sections: dict[str, str]) -> Path:
    """Debian's template with every file in `folder`, loopback ports, `folder` readable by the bulk loader; each
    keyword (a section name) gives keys set over the template's, e.g. SPARQL={"ResultSetMaxRows": "1000"}."""
    ini = configparser.ConfigParser(strict=False, inline_comment_prefixes=(";",), interpolation=None)
    ini.optionxform = str  # Virtuoso's keys are case-sensitive
    ini.read(TEMPLATE)
    for section in ("Plugins", "Striping", "Replication"):  # hosting plugins, striping and replication are off here
        ini.remove_section(section)
    for section in ("Database", "TempDatabase"):
        for key in ("DatabaseFile", "ErrorLogFile", "LockFile", "TransactionFile", "xa_persistent_file"):
            if key in ini[section]:
                ini[section][key] = str(folder / Path(ini[section][key]).name)
    ini["Parameters"].update(ServerPort=f"127.0.0.1:{sql_port}", DirsAllowed=f"., {folder}")
    ini["HTTPServer"].update(ServerPort=f"127.0.0.1:{http_port}", ServerRoot=str(folder))
    ini["URIQA"]["DefaultHost"] = f"127.0.0.1:{http_port}"
    for section, keys in sections.items():
        ini[section].update(keys)
    path = folder / "virtuoso.ini"
    with path.open("w") as out:
        ini.write(out)
    return path


def isql_binary() -> str | None:
    """Virtuoso's SQL client (Debian names it isql-vt), or None when it is not installed."""
    return shutil.which("isql-vt") or shutil.which("isql")


def bulk_load(file: Path, graph: str, isql: str, user: str | None, before: list[str] = ()) -> None:
    """`file` (a folder in the server's DirsAllowed) into `graph` with ld_dir, rdf_loader_run and checkpoint, through
    isql-vt on `isql` ([HOST:]PORT) as `user` (NAME:PASSWORD, default dba:dba); `before`: statements run first."""
    binary = isql_binary()
    if binary is None:
        raise IsqlError("isql-vt is not installed (Debian: virtuoso-opensource)")
    name, _, password = (user or "dba:dba").partition(":")
    folder, pattern = str(file.parent).replace("'", "''"), file.name.replace("'", "''")
    graph = graph.replace("'", "''")
    script = [*before, f"DELETE FROM DB.DBA.load_list WHERE ll_file LIKE '{folder}/{pattern}';",
              f"ld_dir('{folder}', '{pattern}', '{graph}');", "rdf_loader_run();", "checkpoint;",
              f"SELECT ll_error FROM DB.DBA.load_list WHERE ll_file LIKE '{folder}/{pattern}' AND ll_error IS NOT NULL;"]
    result = subprocess.run([binary, isql, name, password, "VERBOSE=OFF", "BANNER=OFF", "PROMPT=OFF", "ERRORS=STDOUT"],
                            input="\n".join(script) + "\n", capture_output=True, text=True, timeout=24 * 3600)
    errors = [line for line in result.stdout.splitlines() if "error" in line.lower()]
    if result.returncode or errors:
        raise IsqlError(" ".join((errors or [result.stderr.strip()])[:3]))

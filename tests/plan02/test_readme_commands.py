"""The README's commands for the embedded mode run as printed, in a new shell, with nothing to set first (issue 16).

`make run` is played as the Makefile plays it (DJANGO_DEBUG=True, then migrate and bootstrap); every command the
README prints for a laptop then runs as a new user's new shell would: HOME and PATH only, no DJANGO_* variable.
The commands are read from the README itself (code blocks and inline code), so a command added there is run
here; only the Production sections (and the deployment checklist, run with production variables) are left out.
The test's own var/ (PLAN02_VAR_DIR) keeps the working copy's database and key out of it.
"""

import csv
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import openpyxl

BASE_DIR = Path(__file__).resolve().parents[2]
README = BASE_DIR / "README.md"
# Sections whose commands run with production variables (README, "Production"), not on the laptop.
PRODUCTION_SECTIONS = {"Production", "Backup and restore"}
PRODUCTION_COMMANDS = {"check --deploy --fail-level WARNING"}  # CI's checklist, with production variables

PASSWORD = "Readme-commands-9x!"
# Placeholders the README leaves to the reader; `{prefix}` is filled from the issued key.
PLACEHOLDERS = {"<user>": "commune", "<username>": "commune", "<first 12 characters>": "{prefix}"}
# The same commands over less data, or the test would take minutes: the full rebuild of 511 days with snapshots
# (what it does over many days is tests/dashboards/test_rollups.py's), and 30 days of demo history.
SHORTER = {
    "rollup --from 2025-07-01 --to 2026-11-23 --snapshots": "rollup --from 2026-11-22 --to 2026-11-23 --snapshots",
    "seed_demo --days 30": "seed_demo --days 1",
}


def readme_commands() -> list[str]:
    """Every `manage.py …` of the README outside the production sections, in order, each once."""
    commands: list[str] = []
    section, in_block = "", False
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_block = not in_block
            continue
        if in_block:
            found = re.findall(r"manage\.py\s+([a-z_]+.*?)\s*(?:#.*)?$", line)
        else:
            if heading := re.match(r"#{2,3} (.+)", line):
                section = heading.group(1).strip()
                continue
            found = re.findall(r"`(?:\.venv/bin/python )?manage\.py ([a-z_]+[^`]*)`", line)  # a command's name
        if section in PRODUCTION_SECTIONS:
            continue
        commands += [c for c in found if c not in PRODUCTION_COMMANDS and c not in commands]
    return commands


def test_the_readme_is_read():
    # The parser itself: the commands of the issue are among those found, the production ones are not.
    commands = readme_commands()
    assert "changepassword <user>" in commands
    assert 'issue_key --locality 00004 --name "Ba Đình desk"' in commands
    assert "collectstatic --noinput" not in commands
    assert set(SHORTER) <= set(commands)


def _spreadsheet(source: Path, target: Path) -> None:
    """catalogue.xlsx and contacts.xlsx, as the README's commands name them: the demo files as a workbook."""
    workbook = openpyxl.Workbook()
    with source.open(encoding="utf-8", newline="") as file:
        for row in csv.reader(file):
            workbook.active.append(row)
    workbook.save(target)


# The new shell's commands, one after the other in one process (a Python start-up per command would take the
# test past half a minute): each is manage.py run as printed, with its arguments, in the new shell's environment.
DRIVER = """
import contextlib, io, json, runpy, shlex, sys
base, commands = sys.argv[1], json.loads(sys.argv[2])
sys.path.insert(0, base)
results, prefix = [], ""
for command in commands:
    sys.argv = ["manage.py", *shlex.split(command.replace("{prefix}", prefix))]
    out, err, code = io.StringIO(), io.StringIO(), 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            runpy.run_path(base + "/manage.py", run_name="__main__")
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            import traceback; traceback.print_exc(); code = 1
    if sys.argv[1] == "issue_key" and "--locality" in sys.argv and code == 0:
        prefix = out.getvalue().strip().splitlines()[-1][:12]  # README: the key is the last line of output
    results.append({"command": command, "code": code, "stdout": out.getvalue(), "stderr": err.getvalue()})
print(json.dumps(results))
"""


def _new_shell(tmp_path: Path) -> dict[str, str]:
    """A new user's new shell: HOME and PATH; PLAN02_VAR_DIR only keeps the working copy's var/ out of it."""
    return {
        "HOME": str(tmp_path),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PLAN02_VAR_DIR": str(tmp_path / "var"),
    }


def _printed(command: str) -> str:
    command = SHORTER.get(command, command)
    for placeholder, value in PLACEHOLDERS.items():
        command = command.replace(placeholder, value)
    return command


def test_every_embedded_command_of_the_readme_runs_as_printed(tmp_path):
    work, environ = tmp_path / "work", _new_shell(tmp_path)
    work.mkdir()
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    # `make run` (without the server): the Makefile asks for DEBUG; DEMO_DAYS=0 keeps it short.
    for arguments in (["migrate", "--noinput"], ["bootstrap"]):
        result = subprocess.run(
            [*manage, *arguments],
            cwd=work,
            env={**environ, "DJANGO_DEBUG": "True", "DEMO_DAYS": "0"},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
    key_file = tmp_path / "var" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text()
    _spreadsheet(BASE_DIR / "fixtures" / "demo_tasks.csv", work / "catalogue.xlsx")
    _spreadsheet(BASE_DIR / "fixtures" / "demo_contacts.csv", work / "contacts.xlsx")
    # The README names the project's own files from its root, as a user types them there.
    (work / "fixtures").mkdir()
    shutil.copy(BASE_DIR / "fixtures" / "report_form_example.xlsx", work / "fixtures")

    # The demo history last: it is the slowest, and the alert runs before it have less to read.
    commands = sorted(readme_commands(), key=lambda command: command.startswith("seed_demo"))
    result = subprocess.run(
        [sys.executable, "-c", DRIVER, str(BASE_DIR), json.dumps([_printed(c) for c in commands])],
        cwd=work,
        env=environ,
        input=f"{PASSWORD}\n{PASSWORD}\n",  # changepassword's new password, twice
        capture_output=True,
        text=True,
        timeout=180,
        # No controlling terminal: changepassword's getpass reads the new password from stdin.
        start_new_session=True,
    )
    assert result.returncode == 0, result.stderr
    ran = json.loads(result.stdout.strip().splitlines()[-1])
    assert [r["command"] for r in ran] == [_printed(c) for c in commands]
    for run in ran:
        assert run["code"] == 0, f"manage.py {run['command']}\n{run['stdout']}\n{run['stderr']}"
        assert "Traceback" not in run["stderr"], f"manage.py {run['command']}\n{run['stderr']}"
    outputs = {run["command"]: run["stdout"] for run in ran}
    assert "Password changed successfully for user 'commune'" in outputs["changepassword commune"]
    revoked = next(run for run in ran if run["command"].startswith("revoke_key"))
    assert "revoked" in revoked["stdout"].lower(), revoked
    # The same key for `make run` and every later shell: sessions and signed tokens survive between them.
    assert key_file.read_text() == key

# The bench workload (workload.yml) as a pyinfra 3.x deploy: the same 20 tasks,
# paths, owners, modes, contents and link target, written with pyinfra's own
# operations. bench/pyinfra.ts runs it with `--data bench_base=DIR`; every host
# works under DIR/<host name>, as in workload.yml.
#
# pyinfra counts a change when an operation proposes commands at its prepare
# step, so the tasks that Ansible never counts as changed (stat, assert, the
# read with changed_when: false, debug) are small operations below that propose
# none and act only while executing; `creates:` is pyinfra's documented idiom,
# a File fact in the deploy body.
from io import StringIO

from pyinfra import host, logger, state
from pyinfra.api import OperationError, operation
from pyinfra.facts.files import File
from pyinfra.facts.server import Command
from pyinfra.operations import files, server

# 1. where this host works (set_fact)
app_dir = f"{host.data.bench_base}/{host.name}"

# 2-5. directories
files.directory(name="base directory", path=app_dir, mode="755")
files.directory(
    name="config directory owned by root",
    path=f"{app_dir}/etc",
    user="root",
    group="root",
    mode="750",
)
files.directory(
    name="data directory owned by nobody",
    path=f"{app_dir}/data",
    user="nobody",
    group="nogroup",
    mode="770",
)
files.directory(name="private log directory", path=f"{app_dir}/log", mode="700")

# 6-8. files with given content
files.put(
    name="message of the day",
    src=StringIO("managed by the bench\n"),
    dest=f"{app_dir}/etc/motd",
    mode="644",
)
files.put(
    name="application config",
    src=StringIO("# application config\nlisten = 127.0.0.1\nport = 8080\n"),
    dest=f"{app_dir}/etc/app.conf",
    user="root",
    group="root",
    mode="640",
)
files.put(
    name="seed data owned by nobody",
    src=StringIO("seed\n"),
    dest=f"{app_dir}/data/seed.txt",
    user="nobody",
    group="nogroup",
    mode="600",
)


# 9-11. commands that run once (creates:)
def run_once(name: str, command: str, creates: str) -> None:
    if not host.get_fact(File, path=creates):
        server.shell(name=name, commands=[command])


run_once("initialise once", f"touch {app_dir}/data/initialized", f"{app_dir}/data/initialized")
run_once(
    "keep the original motd",
    f"cp {app_dir}/etc/motd {app_dir}/etc/motd.orig",
    f"{app_dir}/etc/motd.orig",
)
run_once(
    "shell step, once",
    f'echo "built on {host.name}" > {app_dir}/log/build.txt',
    f"{app_dir}/log/build.txt",
)

# 12. mode of the marker file
files.file(name="initialized marker mode", path=f"{app_dir}/data/initialized", mode="640")

# 13-14. lines (files.line has no mode: the file it creates gets 0644 from the
# remote shell's umask 022, the mode workload.yml asks for; the bench compares it)
files.line(
    name="limits file with one line",
    path=f"{app_dir}/etc/limits.conf",
    line="max_connections = 100",
)
files.line(
    name="log level in the limits file",
    path=f"{app_dir}/etc/limits.conf",
    line=r"^log_level =.*$",
    replace="log_level = info",
)

# 15-16. stat the config and assert it is there and private (register: app_conf)
app_conf: dict = {}


@operation()
def config_is_private(path: str):
    if not state.is_executing:
        return  # the config may not exist before this run has written it
    stat = host.get_fact(File, path=path)
    app_conf["exists"] = bool(stat)
    if not stat or stat["mode"] != 640:
        raise OperationError(f"{path}: expected an existing file with mode 640, got {stat}")
    host.noop(f"{path} exists with mode 640")
    yield from ()


config_is_private(name="the config is there and private", path=f"{app_dir}/etc/app.conf")

# 17. a file only when the config exists (when: app_conf.stat.exists)
files.put(
    name="enabled marker, only when the config exists",
    src=StringIO("enabled\n"),
    dest=f"{app_dir}/etc/enabled",
    mode="644",
    _if=[lambda: app_conf.get("exists", False)],
)

# 18. link
files.link(name="link to the motd", path=f"{app_dir}/etc/motd.link", target="motd")


# 19-20. read the motd and report it (changed_when: false; debug)
@operation()
def report_motd(path: str):
    if not state.is_executing:
        return
    motd = host.get_fact(Command, command=f"cat {path}")
    logger.info(f"{host.name}: {motd}")
    yield from ()


report_motd(name="read the motd and report", path=f"{app_dir}/etc/motd")

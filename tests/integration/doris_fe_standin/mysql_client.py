"""Stand-in for the mysql client in a Doris FE container (``mysql -h 127.0.0.1 -P 9030 -u <user> --batch -e <sql>``).

The statements run on the suite's REAL MariaDB through the REAL mysql client (/usr/bin/mysql, MariaDB's), as the
given user with the password of MYSQL_PWD, so a refused password is MariaDB's refusal (ERROR 1045 on stderr,
exit 1), a failing statement MariaDB's error and the --batch output the real client's. What a Doris FE answers
that MariaDB cannot: the Doris-only clauses are removed first (server.translate, as the SQL API stand-in does),
and SHOW FRONTENDS / SHOW BACKENDS print the recorded Doris output (tests/unit/fixtures/doris/) once the
credentials are accepted by MariaDB. -h/-P name the FE inside its pod; the stand-in connects to
$DORIS_STANDIN_MARIADB (host:port) instead.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server import recorded, translate  # noqa: E402  pylint: disable=wrong-import-position

CLIENT = "/usr/bin/mysql"
SHOW_NODES = re.compile(r"^\s*SHOW\s+(FRONTENDS|BACKENDS)\s*;?\s*$", re.I)


def _batch_value(value):
    return "NULL" if value is None else ("%s" % value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def main(argv):
    options, index = {}, 0
    while index < len(argv):
        arg = argv[index]
        if arg in ("-h", "-P", "-u", "-e"):
            options[arg] = argv[index + 1]
            index += 2
        elif arg == "--batch":
            options[arg] = True
            index += 1
        else:
            sys.stderr.write("mysql stand-in: unsupported argument %r\n" % arg)
            return 2
    if "-e" not in options or "--batch" not in options:
        sys.stderr.write("mysql stand-in: only --batch -e <statement> is modelled\n")
        return 2
    host, port = os.environ["DORIS_STANDIN_MARIADB"].rsplit(":", 1)
    base = [CLIENT, "--protocol=TCP", "-h", host, "-P", port, "-u", options.get("-u", "root"), "--batch"]
    statement = options["-e"]
    show = SHOW_NODES.match(statement)
    if show:
        checked = subprocess.run(base + ["-e", "SELECT 1"], capture_output=True, text=True, check=False)
        if checked.returncode != 0:
            sys.stderr.write(checked.stderr)
            return checked.returncode
        result = recorded("show_frontends.yaml" if show.group(1).upper() == "FRONTENDS" else "show_backends.yaml")
        lines = ["\t".join(result["columns"])] + ["\t".join(_batch_value(v) for v in row) for row in result["rows"]]
        sys.stdout.write("\n".join(lines) + "\n")
        return 0
    return subprocess.run(base + ["-e", translate(statement)], check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

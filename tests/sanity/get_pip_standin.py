"""Stand-in for ansible-test's get-pip bootstrap script (whose download host is unreachable here).

ansible-test runs the cached script with pip's options and package pins as arguments; installing pip
with the interpreter's own ensurepip and then running pip with those arguments does the same job.
get-pip.py's own flags (--no-setuptools, --no-wheel) mean "do not add these", which plain pip does not
add anyway, so they are dropped.
"""
import subprocess
import sys

GET_PIP_ONLY_FLAGS = {"--no-setuptools", "--no-wheel"}

subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_FLAGS]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + args))

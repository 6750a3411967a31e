"""Stand-in for ansible-test's get-pip bootstrap script (whose download host is unreachable here).

ansible-test runs the cached script with pip's options and package pins as arguments; installing pip
with the interpreter's own ensurepip and then running pip with those arguments does the same job.
"""
import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + sys.argv[1:]))

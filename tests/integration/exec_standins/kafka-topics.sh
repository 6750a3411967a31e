#!/bin/sh
# A sh/Python polyglot (sh runs the next line, Python reads it as a string): python3 runs the rest.
"true" '''\'
exec python3 "$0" "$@"
'''
"""Stand-in for Kafka 4.0's bin/kafka-topics.sh (org.apache.kafka.tools.TopicCommand), for pod exec tests.

No Kafka broker runs here. The "broker" is a JSON file named by $KAFKA_STANDIN_BROKER:
{"listeners": ["localhost:9092"], "topics": ["a", "__consumer_offsets"]}; no file means the broker is down.
Options parsed as TopicCommand does for --list; answers and exit codes as the real tool prints them.
"""
import json
import os
import sys

ACTIONS = ("--list", "--describe", "--create", "--alter", "--delete")
WITH_VALUE = ("--bootstrap-server", "--command-config", "--topic")
FLAGS = ACTIONS + ("--exclude-internal", "--help", "--version")
TIMEOUT = ("Error while executing topic command : Timed out waiting for a node assignment. Call: listTopics\n"
           "ERROR org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a node assignment. "
           "Call: listTopics\n (org.apache.kafka.tools.TopicCommand)\n")


def fail(message, code=1):
    sys.stderr.write(message)
    sys.exit(code)


def main(argv):
    options, i = {}, 0
    while i < len(argv):
        arg = argv[i]
        name, eq, value = arg.partition("=")
        if name in WITH_VALUE:
            if not eq:
                if i + 1 >= len(argv):
                    fail('Exception in thread "main" joptsimple.OptionMissingRequiredArgumentException: '
                         'Option %s requires an argument\n' % name.lstrip("-"))
                i += 1
                value = argv[i]
            options[name] = value
        elif arg in FLAGS:
            options[arg] = True
        else:
            fail('Exception in thread "main" joptsimple.UnrecognizedOptionException: %s is not a recognized option\n'
                 % arg.lstrip("-"))
        i += 1
    actions = [a for a in ACTIONS if a in options]
    if len(actions) != 1:
        fail("Command must include exactly one action: --list, --describe, --create, --alter or --delete\n")
    if "--bootstrap-server" not in options:
        fail('Missing required argument "[bootstrap-server]"\n')
    if actions[0] != "--list":
        fail("kafka-topics.sh stand-in: only --list is modelled\n", 2)
    path = os.environ.get("KAFKA_STANDIN_BROKER", "")
    try:
        with open(path) as handle:
            broker = json.load(handle)
    except (OSError, ValueError):
        broker = None
    servers = [s.strip() for s in options["--bootstrap-server"].split(",") if s.strip()]
    # The admin client retries until default.api.timeout.ms (60 s) and then gives up; the stand-in answers at once.
    if broker is None or not set(servers) & set(broker.get("listeners") or []):
        fail(TIMEOUT)
    for topic in sorted(broker.get("topics") or []):
        if "--exclude-internal" in options and topic.startswith("__"):
            continue
        print(topic)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

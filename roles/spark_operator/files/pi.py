"""The lakehouse.platform Spark test job: estimate pi by sampling points in the unit square.

Usage: spark-submit pi.py [PARTITIONS]. Exits 1 when the estimate is off by more than 0.1, so a
COMPLETED SparkApplication means the driver and its executors computed a right answer.
"""
import math
import random
import sys

from pyspark.sql import SparkSession

SAMPLES_PER_PARTITION = 100000


def inside(seed):
    """How many of SAMPLES_PER_PARTITION seeded random points fall inside the quarter circle."""
    rng = random.Random(seed)
    hits = 0
    for _sample in range(SAMPLES_PER_PARTITION):
        x, y = rng.random(), rng.random()
        if x * x + y * y <= 1.0:
            hits += 1
    return hits


def main(argv):
    partitions = int(argv[1]) if len(argv) > 1 else 2
    if partitions < 1:
        print("pi.py: PARTITIONS must be at least 1, got %d" % partitions, file=sys.stderr)
        return 2
    spark = SparkSession.builder.appName("lakehouse-spark-pi").getOrCreate()
    try:
        hits = spark.sparkContext.parallelize(range(partitions), partitions).map(inside).sum()
    finally:
        spark.stop()
    estimate = 4.0 * hits / (partitions * SAMPLES_PER_PARTITION)
    print("Pi is roughly %f (%d partitions)" % (estimate, partitions))
    return 0 if abs(estimate - math.pi) < 0.1 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

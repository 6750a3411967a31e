"""A Doris FE HTTP stand-in (SQL HTTP API and /api/health) executing on the suite's real MariaDB; see README.md."""
from .server import DorisFEStandIn, translate  # noqa: F401

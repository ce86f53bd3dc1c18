"""Shadow comparison of two `/sessions` servers (``agno-session-service compare``).

Replays requests against a primary (for example the AgentOS in production) and a candidate (this
service), and compares status, Content-Type and the parsed JSON body, masking only values that
cannot be equal between two servers (see :class:`Rules`). ``make contract-test`` uses the same
code for its live comparison with agno's AgentOS.
"""

from .core import MISSING, Difference, Request, Response, Rules, compare_responses, diff, short

__all__ = ["MISSING", "Difference", "Request", "Response", "Rules", "compare_responses", "diff", "short"]

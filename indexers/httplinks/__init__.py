"""HTTP linking: operations (`operations`), evidence from other files (`evidence`), the rules (`link`)."""

from indexers.httplinks.link import EVIDENCE_KINDS, HTTP_CROSS_FILE, HTTP_KINDS, link_http
from indexers.httplinks.operations import HttpIndex

__all__ = ["EVIDENCE_KINDS", "HTTP_CROSS_FILE", "HTTP_KINDS", "HttpIndex", "link_http"]
